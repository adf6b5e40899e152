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
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"golang.org/x/net/http/httpguts"
)

// edgeServer serves HTTP/1.x on plain TCP connections. Each connection has
// one goroutine that reads a request (with net/http's own parser,
// http.ReadRequest), has the Proxy answer it, and writes the answer's head
// and body through one buffer, so that a small answer leaves in one system
// call. It keeps what a proxy needs of net/http's server (header and idle
// timeouts, header size limit, keep-alive and its end, Expect:
// 100-continue, chunked answers and trailers, hijacking for upgrades) and
// leaves out what costs a proxy time: a goroutine per request reading
// ahead, a context per request, sorting headers, three layers of buffers.
// HTTPS (and HTTP/2) goes through net/http's server.
type edgeServer struct {
	proxy             *Proxy
	logger            *slog.Logger
	readHeaderTimeout time.Duration
	idleTimeout       time.Duration
	maxHeaderBytes    int64

	mu       sync.Mutex
	conns    map[*edgeConn]struct{}
	listener net.Listener
	closing  atomic.Bool // answers close their connections; idle ones are closed
	wg       sync.WaitGroup
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
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			c.serve()
		}()
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
	s.mu.Lock()
	if s.listener != nil {
		s.listener.Close()
	}
	for c := range s.conns {
		c.conn.Close()
	}
	s.mu.Unlock()
}

// closeIdle closes the connections waiting for their next request.
func (s *edgeServer) closeIdle() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for c := range s.conns {
		if c.idle.Load() {
			c.conn.Close()
		}
	}
}

// edgeConn is one client connection.
type edgeConn struct {
	srv    *edgeServer
	conn   net.Conn
	lr     limitedConn
	br     *bufio.Reader
	bw     *bufio.Writer
	remote string
	idle   atomic.Bool // waiting for a request
	resp   edgeResponse
	watch  clientWatch
}

func (s *edgeServer) newConn(conn net.Conn) *edgeConn {
	if tc, ok := conn.(*net.TCPConn); ok {
		tc.SetNoDelay(true)
	}
	c := &edgeConn{srv: s, conn: conn, remote: conn.RemoteAddr().String()}
	c.lr.Conn, c.lr.remaining = conn, noLimit
	c.br = bufio.NewReaderSize(&c.lr, 4<<10)
	c.idle.Store(true)
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closing.Load() {
		return nil
	}
	s.conns[c] = struct{}{}
	return c
}

// limitedConn reads from a connection, refusing past a limit: it bounds
// the bytes a request's head may take.
type limitedConn struct {
	net.Conn
	remaining int64
}

func (l *limitedConn) Read(p []byte) (int, error) {
	if l.remaining <= 0 {
		return 0, errHeadTooLarge
	}
	if int64(len(p)) > l.remaining {
		p = p[:l.remaining]
	}
	n, err := l.Conn.Read(p)
	l.remaining -= int64(n)
	return n, err
}

var errHeadTooLarge = errors.New("request head too large")

// noLimit is the read limit while a body is read.
const noLimit = 1 << 62

// serve answers requests on the connection until it closes, a request asks
// to close it, or the server shuts down.
func (c *edgeConn) serve() {
	hijacked := false
	defer func() {
		if r := recover(); r != nil && r != http.ErrAbortHandler {
			c.srv.logger.Error("panic serving a request", "client", c.remote, "panic", r)
		}
		c.srv.mu.Lock()
		delete(c.srv.conns, c)
		c.srv.mu.Unlock()
		if !hijacked {
			c.conn.Close()
			c.releaseWriter()
		}
	}()
	for {
		c.idle.Store(true)
		if c.srv.closing.Load() {
			return
		}
		if c.br.Buffered() == 0 {
			c.conn.SetReadDeadline(time.Now().Add(c.srv.idleTimeout))
			if _, err := c.br.Peek(1); err != nil {
				return // closed, or idle too long
			}
		}
		c.idle.Store(false)
		if c.bw == nil {
			c.bw = writerPool.Get().(*bufio.Writer)
			c.bw.Reset(c.conn)
		}
		c.conn.SetReadDeadline(time.Now().Add(c.srv.readHeaderTimeout))
		c.lr.remaining = c.srv.maxHeaderBytes + 4096 + int64(c.br.Buffered())
		req, err := http.ReadRequest(c.br)
		c.lr.remaining = noLimit
		if err != nil {
			c.refuse(err)
			return
		}
		if req.ContentLength != 0 {
			// A body may take its time; the next request's wait sets the
			// idle deadline again.
			c.conn.SetReadDeadline(time.Time{})
		}
		if status, msg := checkRequest(req); status != 0 {
			c.writeError(status, msg)
			return
		}
		req.RemoteAddr = c.remote
		keep, wasHijacked := c.answer(req)
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

// writerPool lends connections their write buffers while they answer.
var writerPool = sync.Pool{New: func() any { return bufio.NewWriterSize(nil, 16<<10) }}

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
	if c.bw == nil {
		c.bw = writerPool.Get().(*bufio.Writer)
		c.bw.Reset(c.conn)
	}
	c.conn.SetWriteDeadline(time.Now().Add(5 * time.Second))
	fmt.Fprintf(c.bw, "HTTP/1.1 %d %s\r\nContent-Type: text/plain; charset=utf-8\r\nConnection: close\r\nContent-Length: %d\r\n\r\n%s",
		status, http.StatusText(status), len(msg)+len(http.StatusText(status))+2, http.StatusText(status)+": "+msg)
	c.bw.Flush()
}

// answer has the proxy answer req and reports whether the connection can
// carry another request, and whether the proxy took it over.
func (c *edgeConn) answer(req *http.Request) (keep, hijacked bool) {
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
		c.srv.proxy.ServeHTTP(w, req)
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

// edgeResponse is the http.ResponseWriter of one request on an edgeConn;
// the connection reuses it for each request.
type edgeResponse struct {
	c           *edgeConn
	req         *http.Request
	header      http.Header
	status      int
	wroteHeader bool
	chunked     bool
	noBody      bool  // HEAD, 1xx, 204, 304
	length      int64 // Content-Length given; -1 when none
	written     int64
	closeAfter  bool
	hijacked    bool
	aborted     bool
	err         error // a write to the client failed
	body        trackedBody
}

func (w *edgeResponse) reset(c *edgeConn, req *http.Request) {
	h := w.header
	if h == nil {
		h = make(http.Header, 8)
	} else {
		clear(h)
	}
	*w = edgeResponse{c: c, req: req, header: h, length: -1}
}

// Header returns the answer's headers, to change before WriteHeader.
func (w *edgeResponse) Header() http.Header { return w.header }

// WriteHeader writes the status line and headers. Informational statuses
// (other than 101) are written at once and may be followed by more.
func (w *edgeResponse) WriteHeader(code int) {
	if w.wroteHeader || w.hijacked {
		return
	}
	if code < 100 || code > 999 {
		panic(fmt.Sprintf("invalid WriteHeader code %v", code))
	}
	bw := w.c.bw
	if code >= 100 && code < 200 && code != http.StatusSwitchingProtocols {
		writeStatusLine(bw, code)
		writeHeaderFields(bw, w.header)
		bw.WriteString("\r\n")
		if err := bw.Flush(); err != nil {
			w.err = err
		}
		return
	}
	w.wroteHeader, w.status = true, code
	h := w.header
	req := w.req
	w.noBody = req.Method == http.MethodHead || code == http.StatusNoContent || code == http.StatusNotModified
	if cl := h["Content-Length"]; len(cl) == 1 {
		if n, err := strconv.ParseInt(cl[0], 10, 64); err == nil && n >= 0 {
			w.length = n
		}
	}
	if code == http.StatusNoContent || code == http.StatusNotModified {
		delete(h, "Content-Length")
		delete(h, "Transfer-Encoding")
		w.length = -1
	}
	if w.c.srv.closing.Load() || w.c.srv.proxy.closing.Load() || req.Close || hasToken(h["Connection"], "close") {
		w.closeAfter = true
	}
	if !req.ProtoAtLeast(1, 1) && !(w.length >= 0 || w.noBody) || !req.ProtoAtLeast(1, 1) && !hasToken(req.Header["Connection"], "keep-alive") {
		w.closeAfter = true // HTTP/1.0: the end of the body is the end of the connection
	}
	if w.length < 0 && !w.noBody && req.ProtoAtLeast(1, 1) {
		w.chunked = true
		delete(h, "Transfer-Encoding")
	}
	delete(h, "Connection")
	writeStatusLine(bw, code)
	writeHeaderFields(bw, h)
	if _, ok := h["Date"]; !ok {
		bw.WriteString("Date: ")
		bw.WriteString(httpDate())
		bw.WriteString("\r\n")
	}
	if w.chunked {
		bw.WriteString("Transfer-Encoding: chunked\r\n")
	}
	switch {
	case w.closeAfter:
		bw.WriteString("Connection: close\r\n")
	case !req.ProtoAtLeast(1, 1):
		bw.WriteString("Connection: keep-alive\r\n")
	}
	bw.WriteString("\r\n")
}

// Write writes body bytes, chunked when the length is not known.
func (w *edgeResponse) Write(p []byte) (int, error) {
	if !w.wroteHeader {
		w.WriteHeader(http.StatusOK)
	}
	if w.err != nil {
		return 0, w.err
	}
	if w.hijacked {
		return 0, http.ErrHijacked
	}
	if w.noBody {
		return len(p), nil
	}
	if w.length >= 0 && w.written+int64(len(p)) > w.length {
		return 0, http.ErrContentLength
	}
	bw := w.c.bw
	if w.chunked {
		if len(p) == 0 {
			return 0, nil
		}
		bw.WriteString(strconv.FormatInt(int64(len(p)), 16))
		bw.WriteString("\r\n")
	}
	n, err := bw.Write(p)
	if w.chunked && err == nil {
		_, err = bw.WriteString("\r\n")
	}
	w.written += int64(n)
	if err != nil {
		w.err = err
	}
	return n, err
}

// ReadFrom sends a body of known length straight to the connection, so a
// file goes out with sendfile.
func (w *edgeResponse) ReadFrom(src io.Reader) (int64, error) {
	if !w.wroteHeader {
		w.WriteHeader(http.StatusOK)
	}
	if w.chunked || w.noBody || w.err != nil || w.hijacked || w.length < 0 {
		return io.Copy(writerOnly{w}, src)
	}
	if err := w.c.bw.Flush(); err != nil {
		w.err = err
		return 0, err
	}
	rf, ok := w.c.conn.(io.ReaderFrom)
	if !ok {
		return io.Copy(writerOnly{w}, src)
	}
	n, err := rf.ReadFrom(io.LimitReader(src, w.length-w.written))
	w.written += n
	if err != nil {
		w.err = err
	}
	return n, err
}

// Flush sends what is buffered.
func (w *edgeResponse) Flush() {
	if !w.wroteHeader {
		w.WriteHeader(http.StatusOK)
	}
	if w.err == nil && !w.hijacked {
		w.err = w.c.bw.Flush()
	}
}

// FlushError is Flush that says whether it worked.
func (w *edgeResponse) FlushError() error {
	w.Flush()
	return w.err
}

// Hijack hands the connection over (for an upgraded protocol).
func (w *edgeResponse) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	if w.hijacked {
		return nil, nil, http.ErrHijacked
	}
	if err := w.c.bw.Flush(); err != nil {
		return nil, nil, err
	}
	w.hijacked = true
	w.c.conn.SetDeadline(time.Time{})
	return w.c.conn, bufio.NewReadWriter(w.c.br, w.c.bw), nil
}

// SetReadDeadline and SetWriteDeadline serve http.ResponseController.
func (w *edgeResponse) SetReadDeadline(t time.Time) error  { return w.c.conn.SetReadDeadline(t) }
func (w *edgeResponse) SetWriteDeadline(t time.Time) error { return w.c.conn.SetWriteDeadline(t) }

// finish ends the answer: the last chunk and trailers, and a check that a
// declared length was written in full.
func (w *edgeResponse) finish() {
	if w.err != nil {
		return
	}
	if w.chunked {
		bw := w.c.bw
		bw.WriteString("0\r\n")
		for k, vv := range w.header {
			if name, ok := strings.CutPrefix(k, http.TrailerPrefix); ok {
				for _, v := range vv {
					bw.WriteString(name + ": " + v + "\r\n")
				}
			}
		}
		for _, declared := range w.header["Trailer"] {
			for _, name := range strings.Split(declared, ",") {
				name = http.CanonicalHeaderKey(strings.TrimSpace(name))
				for _, v := range w.header[name] {
					bw.WriteString(name + ": " + v + "\r\n")
				}
			}
		}
		bw.WriteString("\r\n")
		return
	}
	if w.length >= 0 && !w.noBody && w.written < w.length {
		w.closeAfter = true // a short body: the connection is unusable
	}
}

// trackedBody is a request body that notes when it was read to its end,
// and sends 100 Continue before the first read when the client asked.
type trackedBody struct {
	r      io.ReadCloser
	w      *edgeResponse
	expect bool
	eof    bool
}

func (b *trackedBody) Read(p []byte) (int, error) {
	if b.expect {
		b.expect = false
		if !b.w.wroteHeader {
			b.w.c.bw.WriteString("HTTP/1.1 100 Continue\r\n\r\n")
			b.w.c.bw.Flush()
		}
	}
	n, err := b.r.Read(p)
	if err == io.EOF {
		b.eof = true
	}
	return n, err
}

func (b *trackedBody) Close() error { return b.r.Close() }

// statusLines are the status lines of common statuses, made once.
var statusLines = func() map[int]string {
	m := map[int]string{}
	for _, code := range []int{200, 201, 204, 206, 301, 302, 303, 304, 307, 308, 400, 401, 403, 404, 405, 413, 416, 429, 499, 500, 502, 503, 504} {
		m[code] = "HTTP/1.1 " + strconv.Itoa(code) + " " + http.StatusText(code) + "\r\n"
	}
	return m
}()

func writeStatusLine(bw *bufio.Writer, code int) {
	if line, ok := statusLines[code]; ok {
		bw.WriteString(line)
		return
	}
	text := http.StatusText(code)
	if text == "" {
		text = "status code " + strconv.Itoa(code)
	}
	bw.WriteString("HTTP/1.1 " + strconv.Itoa(code) + " " + text + "\r\n")
}

// writeHeaderFields writes the header fields, less trailers and those no
// server writes itself; values with line breaks are refused by dropping
// the field (as net/http does by replacing them).
func writeHeaderFields(bw *bufio.Writer, h http.Header) {
	for k, vv := range h {
		if k == "Transfer-Encoding" || strings.HasPrefix(k, http.TrailerPrefix) || !httpguts.ValidHeaderFieldName(k) {
			continue
		}
		for _, v := range vv {
			if strings.ContainsAny(v, "\r\n") {
				continue
			}
			bw.WriteString(k)
			bw.WriteString(": ")
			bw.WriteString(v)
			bw.WriteString("\r\n")
		}
	}
}

func hasToken(values []string, token string) bool {
	return httpguts.HeaderValuesContainsToken(values, token)
}

// httpDate returns the Date header's value, formatted at most once a
// second.
func httpDate() string {
	now := time.Now().Unix()
	if d := cachedDate.Load(); d != nil && d.unix == now {
		return d.text
	}
	d := &dateText{unix: now, text: time.Unix(now, 0).UTC().Format(http.TimeFormat)}
	cachedDate.Store(d)
	return d.text
}

type dateText struct {
	unix int64
	text string
}

var cachedDate atomic.Pointer[dateText]
