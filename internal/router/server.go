package router

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"golang.org/x/net/http/httpguts"
)

// edgeServer serves HTTP/1.x on plain TCP connections. Each connection has
// one goroutine that reads a request (the common ones with headReader,
// the others with net/http's own parser, http.ReadRequest), has the Proxy answer it, and writes the answer's head
// and body through one buffer, so that a small answer leaves in one system
// call. It keeps what a proxy needs of net/http's server (header and idle
// timeouts, header size limit, keep-alive and its end, Expect:
// 100-continue, chunked answers and trailers, hijacking for upgrades) and
// leaves out what costs a proxy time: a goroutine per request reading
// ahead, a context per request, sorting headers, three layers of buffers.
// HTTPS (and HTTP/2) goes through net/http's server.
//
// On Linux the goroutine is only lent: connections wait for requests in
// event loops (loop_linux.go) which answer on the spot what needs nothing
// but memory, and hand the rest to a goroutine that gives the connection
// back when it is idle again.
type edgeServer struct {
	proxy             *Proxy
	logger            *slog.Logger
	readHeaderTimeout time.Duration
	idleTimeout       time.Duration
	maxHeaderBytes    int64

	mu       sync.Mutex
	conns    map[*edgeConn]struct{}
	listener net.Listener
	closing  atomic.Bool    // answers close their connections; idle ones are closed
	closed   atomic.Bool    // Close: every connection is closed
	wg       sync.WaitGroup // one per connection

	loops    []*eventLoop // nil: a goroutine serves each connection all its life
	nextLoop int
}

func newPlainServer(p *Proxy, logger *slog.Logger) *edgeServer {
	return &edgeServer{
		proxy: p, logger: logger, readHeaderTimeout: readHeaderTimeout, idleTimeout: idleTimeout,
		maxHeaderBytes: maxHeaderBytes, conns: map[*edgeConn]struct{}{},
	}
}

// Serve accepts connections on ln until it is closed. It returns
// http.ErrServerClosed after Shutdown or Close.
func (s *edgeServer) Serve(ln net.Listener) error {
	s.mu.Lock()
	s.listener = ln
	if s.loops == nil {
		s.loops = startLoops(s)
	}
	s.mu.Unlock()
	var backoff time.Duration
	for {
		conn, err := ln.Accept()
		if err != nil {
			if s.closing.Load() {
				return http.ErrServerClosed
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() || errors.Is(err, syscall.EMFILE) {
				backoff = min(max(2*backoff, 5*time.Millisecond), time.Second)
				s.logger.Warn("accept failed; retrying", "err", err, "in", backoff)
				time.Sleep(backoff)
				continue
			}
			return err
		}
		backoff = 0
		c := s.newConn(conn)
		if c == nil {
			conn.Close()
			continue
		}
		if c.loop != nil {
			c.loop.add(c)
			continue
		}
		go c.serve(nil)
	}
}

// Shutdown stops accepting, closes idle connections, and waits for the
// answers in flight (each then closes its connection) until ctx ends.
func (s *edgeServer) Shutdown(ctx context.Context) error {
	s.closing.Store(true)
	s.mu.Lock()
	if s.listener != nil {
		s.listener.Close()
	}
	s.mu.Unlock()
	done := make(chan struct{})
	go func() { s.wg.Wait(); close(done) }()
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		s.closeIdle()
		select {
		case <-done:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		case <-tick.C:
		}
	}
}

// Close closes the listener and every connection at once.
func (s *edgeServer) Close() {
	s.closing.Store(true)
	s.closed.Store(true)
	s.mu.Lock()
	if s.listener != nil {
		s.listener.Close()
	}
	for c := range s.conns {
		if !c.inLoop.Load() {
			c.conn.Close()
		}
	}
	s.pokeLoops() // they close theirs
	s.mu.Unlock()
}

// closeIdle closes the connections waiting for their next request.
func (s *edgeServer) closeIdle() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for c := range s.conns {
		if c.idle.Load() && !c.inLoop.Load() {
			c.conn.Close()
		}
	}
	s.pokeLoops() // they close their idle connections themselves
}

func (s *edgeServer) pokeLoops() {
	for _, l := range s.loops {
		l.poke()
	}
}

// edgeConn is one client connection.
type edgeConn struct {
	srv    *edgeServer
	conn   net.Conn
	lr     limitedConn
	read   *connReader   // nil while idle
	br     *bufio.Reader // read.br
	bw     *bufio.Writer // nil while idle
	remote string
	idle   atomic.Bool // waiting for a request
	waiter idleWait
	waits  bool        // waiter works on this connection
	bare   atomic.Bool // waiting for a request holding no buffer
	resp   edgeResponse
	watch  clientWatch
	closed atomic.Bool // counted out of the server

	// Event-loop state (loop_linux.go); loop is nil when a goroutine
	// serves the connection all its life.
	loop    *eventLoop
	id      uint64
	inLoop  atomic.Bool  // the loop has it, not a goroutine
	expires atomic.Int64 // unix nanoseconds: the loop closes it then
	raw     rawSocket
	ending  bool // close once the answer is sent
	yielded bool // in its loop's again list
}

func (s *edgeServer) newConn(conn net.Conn) *edgeConn {
	if tc, ok := conn.(*net.TCPConn); ok {
		tc.SetNoDelay(true)
	}
	c := &edgeConn{srv: s, conn: conn, remote: conn.RemoteAddr().String()}
	c.lr.Conn, c.lr.remaining = conn, noLimit
	c.idle.Store(true)
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closing.Load() {
		return nil
	}
	if len(s.loops) > 0 && c.raw.init(conn) {
		c.loop = s.loops[s.nextLoop%len(s.loops)]
		s.nextLoop++
		c.lr.raw = &c.raw
	} else {
		c.waits = c.waiter.init(conn)
	}
	s.conns[c] = struct{}{}
	s.wg.Add(1)
	return c
}

// forget counts the connection out of the server, once: it is closed, or
// a hijacker has it.
func (c *edgeConn) forget() {
	if !c.closed.CompareAndSwap(false, true) {
		return
	}
	c.srv.mu.Lock()
	delete(c.srv.conns, c)
	c.srv.mu.Unlock()
	if c.loop != nil {
		c.loop.remove(c)
	}
	c.srv.wg.Done()
}

// limitedConn reads from a connection, refusing past a limit: it bounds
// the bytes a request's head may take.
type limitedConn struct {
	net.Conn
	remaining int64
	raw       *rawSocket // set while an event loop has the connection: reads never wait
}

func (l *limitedConn) Read(p []byte) (int, error) {
	if l.remaining <= 0 {
		return 0, errHeadTooLarge
	}
	if int64(len(p)) > l.remaining {
		p = p[:l.remaining]
	}
	var n int
	var err error
	if l.raw != nil {
		n, err = l.raw.read(p)
	} else {
		n, err = l.Conn.Read(p)
	}
	l.remaining -= int64(n)
	return n, err
}

var errHeadTooLarge = errors.New("request head too large")

// noLimit is the read limit while a body is read.
const noLimit = 1 << 62

// serve answers requests on the connection until it closes, a request asks
// to close it, or the server shuts down; first req when an event loop read
// it. A connection of an event loop goes back to it once no request is
// buffered.
func (c *edgeConn) serve(req *http.Request) {
	hijacked, back := false, false
	// Whether to wait hotWait for the client's next request before giving
	// the connection back: yes after a request the loop could not have
	// answered (a busy client of the app would cost a hand-over each), no
	// after one it could (it answers the next ones better).
	hot := true
	defer func() {
		if r := recover(); r != nil && r != http.ErrAbortHandler {
			c.srv.logger.Error("panic serving a request", "client", c.remote, "panic", r)
			back = false
		}
		switch {
		case back:
			c.loop.takeBack(c)
		case hijacked: // the hijacker has the connection and the buffers
			c.forget()
		default:
			c.conn.Close()
			c.releaseWriter()
			c.releaseReader()
			c.forget()
		}
	}()
	for {
		if req == nil {
			c.idle.Store(true)
			if c.srv.closing.Load() {
				return
			}
			if c.br == nil || c.br.Buffered() == 0 {
				if c.loop != nil {
					// A busy client's next request comes within hotWait:
					// it stays with this goroutine. Else the loop waits.
					came, ok := false, true
					if hot {
						came, ok = c.awaitHot()
					}
					if !ok {
						return
					}
					if !came {
						back = c.bw == nil || c.bw.Flush() == nil
						return
					}
				} else if !c.awaitRequest() {
					return // closed, or idle too long
				}
			}
			c.idle.Store(false)
			c.conn.SetReadDeadline(time.Now().Add(c.srv.readHeaderTimeout))
			c.lr.remaining = c.srv.maxHeaderBytes + 4096 + int64(c.br.Buffered())
			var err error
			req, err = c.read.head.read(c.br)
			c.lr.remaining = noLimit
			if err != nil {
				c.refuse(err)
				return
			}
			if status, msg := checkRequest(req); status != 0 {
				c.writeError(status, msg)
				return
			}
		}
		if req.ContentLength != 0 {
			// A body may take its time; the next request's wait sets the
			// idle deadline again.
			c.conn.SetReadDeadline(time.Time{})
		}
		c.acquireWriter()
		req.RemoteAddr = c.remote
		t := c.srv.proxy.table.Load()
		keep, wasHijacked := c.answer(req, t, nil)
		hot = c.loop == nil || !c.srv.proxy.answersAtOnce(req, t)
		req = nil
		if wasHijacked {
			hijacked = true
			return
		}
		if !keep {
			c.bw.Flush()
			return
		}
		if c.br.Buffered() == 0 {
			if err := c.bw.Flush(); err != nil {
				return
			}
			c.releaseWriter() // an idle connection holds no write buffer
		}
	}
}

// connReader is what a connection reads requests with: its read buffer and
// the reused request of its head reader. Connections borrow one from
// readerPool while they read and answer, and give it back when idle.
type connReader struct {
	br   *bufio.Reader
	head headReader
}

var readerPool = sync.Pool{New: func() any { return &connReader{br: bufio.NewReaderSize(nil, 4<<10)} }}

func (c *edgeConn) acquireReader() {
	if c.read == nil {
		c.read = readerPool.Get().(*connReader)
		c.read.br.Reset(&c.lr)
		c.br = c.read.br
	}
}

// releaseReader gives the reader back; only when nothing is buffered, and
// never after a hijack (the hijacker reads from it).
func (c *edgeConn) releaseReader() {
	if c.read != nil {
		c.read.br.Reset(nil)
		readerPool.Put(c.read)
		c.read, c.br = nil, nil
	}
}

// hotWait is how long a connection waits for its next request with its
// read buffer before it gives the buffer back: a busy client's next request
// comes within it and costs one read, an idle one's connection then costs
// no buffer.
const hotWait = 20 * time.Millisecond

// awaitRequest waits until the next request's first bytes are in c.br,
// and reports false when the connection closed or stayed idle too long.
func (c *edgeConn) awaitRequest() bool {
	idleUntil := time.Now().Add(c.srv.idleTimeout)
	if c.br != nil && c.waits {
		came, ok := c.awaitHot()
		if came || !ok {
			return came
		}
	}
	c.releaseReader() // an idle connection holds no read buffer
	c.conn.SetReadDeadline(idleUntil)
	if c.waits {
		c.bare.Store(c.bw == nil && c.read == nil)
		err := c.waiter.wait()
		c.bare.Store(false)
		if err != nil {
			return false
		}
	}
	c.acquireReader()
	_, err := c.br.Peek(1)
	return err == nil
}

// awaitHot waits hotWait for the next request's first bytes, with the read
// buffer, and reports whether they came; ok is false when the connection
// failed.
func (c *edgeConn) awaitHot() (came, ok bool) {
	if c.br == nil {
		return false, true
	}
	c.conn.SetReadDeadline(time.Now().Add(hotWait))
	_, err := c.br.Peek(1)
	if err == nil {
		return true, true
	}
	var ne net.Error
	return false, errors.As(err, &ne) && ne.Timeout()
}

// writerPool lends connections their write buffers while they answer.
var writerPool = sync.Pool{New: func() any { return bufio.NewWriterSize(nil, 16<<10) }}

// acquireWriter gives the connection a write buffer: onto the socket as
// is, or, while the event loop has it, onto the socket without waiting.
func (c *edgeConn) acquireWriter() {
	if c.bw == nil {
		c.bw = writerPool.Get().(*bufio.Writer)
		if c.inLoop.Load() {
			c.bw.Reset(&c.raw)
		} else {
			c.bw.Reset(c.conn)
		}
	}
}

func (c *edgeConn) releaseWriter() {
	if c.bw != nil {
		c.bw.Reset(nil)
		writerPool.Put(c.bw)
		c.bw = nil
	}
}

// refuse answers a request that did not parse, as net/http's server does.
func (c *edgeConn) refuse(err error) {
	var ne net.Error
	switch {
	case errors.Is(err, io.EOF), errors.Is(err, net.ErrClosed):
		// The client closed the connection between requests.
	case errors.As(err, &ne) && ne.Timeout():
		// Slow or silent client: nothing worth answering.
	case errors.Is(err, errHeadTooLarge):
		c.writeError(http.StatusRequestHeaderFieldsTooLarge, "request header fields too large")
	default:
		msg := err.Error()
		if strings.Contains(msg, "unsupported protocol version") || strings.Contains(msg, "malformed HTTP version") {
			c.writeError(http.StatusHTTPVersionNotSupported, "unsupported protocol version")
			return
		}
		c.writeError(http.StatusBadRequest, "bad request")
	}
}

// checkRequest applies the checks net/http's server makes beyond parsing.
// It returns a status and message for a request to refuse, else 0.
func checkRequest(req *http.Request) (int, string) {
	if req.ProtoMajor != 1 {
		return http.StatusHTTPVersionNotSupported, "unsupported protocol version"
	}
	if req.ProtoAtLeast(1, 1) && req.Host == "" && req.Method != http.MethodConnect {
		return http.StatusBadRequest, "missing required Host header"
	}
	if req.Host != "" && !httpguts.ValidHostHeader(req.Host) {
		return http.StatusBadRequest, "malformed Host header"
	}
	for k, vv := range req.Header {
		if !httpguts.ValidHeaderFieldName(k) {
			return http.StatusBadRequest, "invalid header name"
		}
		for _, v := range vv {
			if !httpguts.ValidHeaderFieldValue(v) {
				return http.StatusBadRequest, "invalid header value"
			}
		}
	}
	if expect := req.Header["Expect"]; len(expect) > 0 && !(len(expect) == 1 && strings.EqualFold(expect[0], "100-continue") && req.ProtoAtLeast(1, 1)) {
		return http.StatusExpectationFailed, "unsupported Expect"
	}
	return 0, ""
}

// writeError writes a plain answer and leaves the connection to close.
func (c *edgeConn) writeError(status int, msg string) {
	c.acquireWriter()
	c.conn.SetWriteDeadline(time.Now().Add(5 * time.Second))
	fmt.Fprintf(c.bw, "HTTP/1.1 %d %s\r\nContent-Type: text/plain; charset=utf-8\r\nConnection: close\r\nContent-Length: %d\r\n\r\n%s",
		status, http.StatusText(status), len(msg)+len(http.StatusText(status))+2, http.StatusText(status)+": "+msg)
	c.bw.Flush()
}

// answer has the proxy answer req, routing with table t (and reusing
// flight spare if not nil; see serveWith), and reports whether the
// connection can carry another request, and whether the proxy took it
// over.
func (c *edgeConn) answer(req *http.Request, t *table, spare *flight) (keep, hijacked bool) {
	w := &c.resp
	w.reset(c, req)
	if req.Body != nil && req.Body != http.NoBody {
		w.body.r = req.Body
		w.body.w = w
		w.body.expect = len(req.Header["Expect"]) > 0
		req.Body = &w.body
	}
	func() {
		defer func() {
			if r := recover(); r != nil {
				if r != http.ErrAbortHandler {
					c.srv.logger.Error("panic serving a request", "client", c.remote, "path", req.URL.Path, "panic", r)
				}
				w.closeAfter = true
				w.aborted = true
			}
		}()
		c.srv.proxy.serveWith(w, req, t, spare)
	}()
	if w.hijacked {
		return false, true
	}
	if w.aborted {
		return false, false // the answer is cut: its connection ends
	}
	if !w.wroteHeader {
		w.WriteHeader(http.StatusOK)
	}
	w.finish()
	if w.err != nil || w.closeAfter {
		return false, false
	}
	if req.Body != nil && req.Body != http.NoBody && !w.body.eof {
		return false, false // an unread body stands between us and the next request
	}
	return true, false
}
