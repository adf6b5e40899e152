//go:build linux

package http1

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"net"
	"net/http"
	"syscall"
	"time"
)

// responsesPerTurn is how many requests of one connection a loop responds
// to before it serves the others: a client pipelining thousands of
// requests holds the loop up no longer than one sending 16.
const responsesPerTurn = 16

// serve responds to c's requests until its socket has nothing more to
// read, a request needs a goroutine, or the connection ends.
func (l *eventLoop) serve(c *conn) {
	if !l.sendPending(c) {
		return
	}
	for responded := 0; l.mayRead(c, responded); responded++ {
		req := l.readRequest(c)
		if req == nil || !l.respond(c, req) {
			return
		}
	}
}

// sendPending sends what c's socket did not take yet of its responses, and
// reports whether the loop may go on to c's next request: not while the
// socket is full, nor once c's last response is sent (c then closes).
func (l *eventLoop) sendPending(c *conn) bool {
	if len(c.polled.raw.out) > 0 {
		if err := c.polled.raw.flush(); err != nil {
			l.close(c)
			return false
		}
		if len(c.polled.raw.out) > 0 {
			return false // the socket is still full
		}
	}
	if c.polled.ending {
		l.close(c)
		return false
	}
	return true
}

// mayRead reports whether the loop reads c's next request now, responded
// requests into c's turn. It does not when the server shuts down and none
// is buffered (c closes), when none has come (c waits for it), or when c
// has had its turn (c comes back after the others).
func (l *eventLoop) mayRead(c *conn, responded int) bool {
	buffered := c.br != nil && c.br.Buffered() > 0
	switch {
	case l.srv.closing.Load() && !buffered:
		l.close(c)
	case !buffered && c.polled.raw.drained && !c.polled.raw.hup:
		l.await(c)
	case responded == responsesPerTurn:
		// More is buffered or may be unread (the edge that told of it is
		// spent): the connection comes back after the others.
		if !c.polled.yielded {
			c.polled.yielded = true
			l.again = append(l.again, c)
		}
	default:
		return true
	}
	return false
}

// readRequest reads c's next request once its whole head has come. It
// returns nil when there is none to respond to now: the rest of the head
// has yet to come, the head is larger than the loop's buffer (a goroutine
// reads it), the request was refused, or c closed.
func (l *eventLoop) readRequest(c *conn) *http.Request {
	c.acquireReader()
	whole, err := readHead(c.br)
	switch {
	case errors.Is(err, bufioFull):
		l.lend(c, nil) // a head larger than the buffer: read with the goroutine's limits
		return nil
	case errors.Is(err, io.EOF) && c.br.Buffered() > 0:
		// The client closed its side within a head: the parser below
		// says what is wrong with it, as it does for the goroutines.
	case err != nil:
		l.close(c)
		return nil
	case !whole:
		l.awaitRest(c)
		return nil
	}
	c.idle.Store(false)
	c.bare.Store(false)
	req, err := c.read.head.read(c.br)
	if err != nil {
		c.refuse(err)
		l.end(c)
		return nil
	}
	if status, msg := checkRequest(req); status != 0 {
		c.writeError(status, msg)
		l.end(c)
		return nil
	}
	return req
}

// respond has the loop's handler respond to req, or lends c to a
// goroutine when the response would wait; it reports whether the loop may
// go on to c's next request.
func (l *eventLoop) respond(c *conn, req *http.Request) bool {
	if !l.handler.RespondsAtOnce(req) {
		l.lend(c, req)
		return false
	}
	c.acquireWriter()
	req.RemoteAddr = c.remote
	after := c.respond(req, l.handler)
	if after == hijacked { // no response given at once hijacks; should one, it has the connection
		c.inLoop.Store(false)
		c.forget()
		return false
	}
	err := c.bw.Flush()
	c.releaseWriter()
	switch {
	case err != nil:
		l.close(c)
		return false
	case after == closeAfter:
		l.end(c)
		return false
	case len(c.polled.raw.out) > 0:
		c.polled.expires.Store(time.Now().Add(l.srv.IdleTimeout).UnixNano())
		return false // the rest goes when the socket drains
	}
	return true
}

// await leaves c waiting for its next request, holding no buffer.
func (l *eventLoop) await(c *conn) {
	c.releaseReader()
	c.idle.Store(true)
	c.bare.Store(c.bw == nil && c.read == nil)
	c.polled.expires.Store(time.Now().Add(l.srv.IdleTimeout).UnixNano())
}

// awaitRest leaves c waiting for the rest of a request's head, which has
// the header timeout from its first bytes; or, with nothing buffered, for
// a request.
func (l *eventLoop) awaitRest(c *conn) {
	if c.br.Buffered() == 0 {
		l.await(c)
	} else if c.idle.Load() {
		c.idle.Store(false)
		c.bare.Store(false)
		c.polled.expires.Store(time.Now().Add(l.srv.ReadHeaderTimeout).UnixNano())
	}
}

// end closes c once its last response is sent.
func (l *eventLoop) end(c *conn) {
	if c.bw != nil {
		c.bw.Flush()
		c.releaseWriter()
	}
	if len(c.polled.raw.out) == 0 {
		l.close(c)
		return
	}
	c.polled.ending = true
	c.polled.expires.Store(time.Now().Add(5 * time.Second).UnixNano())
}

// close closes a connection the loop has.
func (l *eventLoop) close(c *conn) {
	c.conn.Close()
	c.releaseWriter()
	c.releaseReader()
	c.polled.raw.out = nil
	c.forget()
}

// lend gives c to a goroutine, with the request the loop read (nil: the
// goroutine reads it).
func (l *eventLoop) lend(c *conn, req *http.Request) {
	c.inLoop.Store(false)
	c.lr.raw = nil
	// Out of the loop's set while lent: its requests would wake the loop
	// for nothing.
	if err := c.polled.raw.watch(l.ep, syscall.EPOLL_CTL_DEL, c.polled.id); err != nil {
		l.srv.logger.Warn("could not stop watching a connection", "client", c.remote, "err", err)
	}
	go c.serve(req)
}

// takeBack is how a goroutine gives c back once no request is buffered.
// It runs on the goroutine.
func (l *eventLoop) takeBack(c *conn) {
	c.releaseWriter()
	c.releaseReader()
	c.conn.SetDeadline(time.Time{}) // a passed deadline would fail the loop's reads
	c.lr.raw = &c.polled.raw
	c.polled.raw.drained = false
	c.idle.Store(true)
	c.bare.Store(true)
	c.polled.expires.Store(time.Now().Add(l.srv.IdleTimeout).UnixNano())
	c.inLoop.Store(true)
	// Back into the set: bytes that came while the goroutine had c raise
	// their event now (an edge-triggered add reports what is ready).
	l.mu.Lock()
	err := net.ErrClosed
	if !l.done {
		err = c.polled.raw.watch(l.ep, syscall.EPOLL_CTL_ADD, c.polled.id)
	}
	l.mu.Unlock()
	if err != nil {
		if !l.srv.closing.Load() {
			l.srv.logger.Warn("could not watch a connection again", "client", c.remote, "err", err)
		}
		c.inLoop.Store(false)
		c.conn.Close()
		c.forget()
	}
}

// readHead reads what the socket has until br holds a whole request head,
// and reports whether it does. bufioFull means the head does not fit.
func readHead(br *bufio.Reader) (bool, error) {
	for {
		buffered, _ := br.Peek(br.Buffered())
		if headEnds(buffered) {
			return true, nil
		}
		if len(buffered) == br.Size() {
			return false, bufioFull
		}
		if _, err := br.Peek(len(buffered) + 1); err != nil {
			if errors.Is(err, errWouldBlock) {
				return false, nil
			}
			return false, err
		}
	}
}

var bufioFull = errors.New("request head larger than the read buffer")

// headEnds reports whether b holds the empty line that ends a request head
// (CRLF or, as the parsers also take, a bare LF).
func headEnds(b []byte) bool {
	for {
		i := bytes.IndexByte(b, '\n')
		if i < 0 {
			return false
		}
		b = b[i+1:]
		if len(b) > 0 && b[0] == '\n' || len(b) > 1 && b[0] == '\r' && b[1] == '\n' {
			return true
		}
	}
}
