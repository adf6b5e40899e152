package http1

import (
	"bufio"
	"errors"
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// conn is one client connection. Between requests it holds no buffer: it
// borrows its reader and writer from pools while it reads and responds.
type conn struct {
	srv    *Server
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
	resp   response
	watch  clientWatch
	closed atomic.Bool // counted out of the server

	// loop is the event loop the connection belongs to; nil when a
	// goroutine serves it all its life. inLoop says whether the loop has
	// it now, rather than a goroutine; polled is what the loop keeps of it.
	loop   *eventLoop
	inLoop atomic.Bool
	polled loopState
}

func (s *Server) newConn(nc net.Conn) *conn {
	if tc, ok := nc.(*net.TCPConn); ok {
		tc.SetNoDelay(true)
	}
	c := &conn{srv: s, conn: nc, remote: nc.RemoteAddr().String()}
	c.lr.Conn, c.lr.remaining = nc, noLimit
	c.idle.Store(true)
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closing.Load() {
		return nil
	}
	if len(s.loops) > 0 && c.polled.raw.init(nc) {
		c.loop = s.loops[s.nextLoop%len(s.loops)]
		s.nextLoop++
		c.lr.raw = &c.polled.raw
	} else {
		c.waits = c.waiter.init(nc)
	}
	s.conns[c] = struct{}{}
	s.wg.Add(1)
	return c
}

// forget counts the connection out of the server, once: it is closed, or
// a hijacker has it.
func (c *conn) forget() {
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

// connReader is what a connection reads requests with: its read buffer and
// the reused request of its head reader. Connections borrow one from
// readerPool while they read and respond, and give it back when idle.
type connReader struct {
	br   *bufio.Reader
	head headReader
}

var readerPool = sync.Pool{New: func() any { return &connReader{br: bufio.NewReaderSize(nil, 4<<10)} }}

func (c *conn) acquireReader() {
	if c.read == nil {
		c.read = readerPool.Get().(*connReader)
		c.read.br.Reset(&c.lr)
		c.br = c.read.br
	}
}

// releaseReader gives the reader back; only when nothing is buffered, and
// never after a hijack (the hijacker reads from it).
func (c *conn) releaseReader() {
	if c.read != nil {
		c.read.br.Reset(nil)
		readerPool.Put(c.read)
		c.read, c.br = nil, nil
	}
}

// writerPool lends connections their write buffers while they respond.
var writerPool = sync.Pool{New: func() any { return bufio.NewWriterSize(nil, 16<<10) }}

// acquireWriter gives the connection a write buffer: onto the socket as
// is, or, while the event loop has it, onto the socket without waiting.
func (c *conn) acquireWriter() {
	if c.bw == nil {
		c.bw = writerPool.Get().(*bufio.Writer)
		if c.inLoop.Load() {
			c.bw.Reset(&c.polled.raw)
		} else {
			c.bw.Reset(c.conn)
		}
	}
}

func (c *conn) releaseWriter() {
	if c.bw != nil {
		c.bw.Reset(nil)
		writerPool.Put(c.bw)
		c.bw = nil
	}
}

// hotWait is how long a connection waits for its next request with its
// read buffer before it gives the buffer back: a busy client's next request
// comes within it and costs one read, an idle one's connection then costs
// no buffer.
const hotWait = 20 * time.Millisecond

// awaitRequest waits until the next request's first bytes are in c.br,
// and reports false when the connection closed or stayed idle too long.
func (c *conn) awaitRequest() bool {
	idleUntil := time.Now().Add(c.srv.IdleTimeout)
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
func (c *conn) awaitHot() (came, ok bool) {
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
