package http1

import (
	"net/http"
	"time"
)

// ending is how a goroutine lets go of the connection it served.
type ending int

const (
	closeConn ending = iota // it closes
	giveBack                // it goes back to its event loop
	handOver                // a hijacker has it, and its buffers
)

// serve responds to the connection's requests, on a goroutine, until it
// closes, a request asks to close it, or the server shuts down; req is the
// first one when an event loop read it. A connection of an event loop goes
// back to it once its client is quiet.
func (c *conn) serve(req *http.Request) {
	end := closeConn
	defer c.stopServing(&end)
	// Whether to wait hotWait for the client's next request before giving
	// the connection back: yes after a request the loop could not have
	// responded to (a busy client of the app would cost a hand-over each),
	// no after one it could (it serves the next ones better).
	hot := true
	for {
		if req == nil {
			if req, end = c.nextRequest(hot); req == nil {
				return
			}
		}
		switch c.respondOnGoroutine(req) {
		case hijacked:
			end = handOver
			return
		case closeAfter:
			c.bw.Flush()
			return
		}
		hot = c.loop == nil || !c.srv.Handler.RespondsAtOnce(req)
		req = nil
		if !c.flushIfIdle() {
			return
		}
	}
}

// nextRequest waits for the connection's next request and reads it. It
// returns nil, and how the connection ends, when there is none to serve:
// the server shuts down; the client left, stayed idle too long or sent a
// request to refuse; or, on an event loop's connection, it is quiet.
func (c *conn) nextRequest(hot bool) (*http.Request, ending) {
	c.idle.Store(true)
	if c.srv.closing.Load() {
		return nil, closeConn
	}
	if c.br == nil || c.br.Buffered() == 0 {
		if came, end := c.waitForRequest(hot); !came {
			return nil, end
		}
	}
	c.idle.Store(false)
	return c.readRequest(), closeConn
}

// waitForRequest waits for the first bytes of the next request and
// reports whether they came; if not, end says how the connection ends. A
// connection of an event loop goes back to it, which waits better, when
// its client sends nothing within hotWait (at once when not hot).
func (c *conn) waitForRequest(hot bool) (came bool, end ending) {
	if c.loop == nil {
		return c.awaitRequest(), closeConn // closed, or idle too long
	}
	ok := true
	if hot {
		came, ok = c.awaitHot()
	}
	switch {
	case came:
		return true, closeConn
	case ok && (c.bw == nil || c.bw.Flush() == nil):
		return false, giveBack
	default:
		return false, closeConn
	}
}

// readRequest reads the next request's head, within the header timeout
// and size limit. It returns nil, having refused the request, when the
// head does not parse or is one net/http's server would refuse.
func (c *conn) readRequest() *http.Request {
	c.conn.SetReadDeadline(time.Now().Add(c.srv.ReadHeaderTimeout))
	c.lr.remaining = c.srv.MaxHeaderBytes + 4096 + int64(c.br.Buffered())
	req, err := c.read.head.read(c.br)
	c.lr.remaining = noLimit
	if err != nil {
		c.refuse(err)
		return nil
	}
	if status, msg := checkRequest(req); status != 0 {
		c.writeError(status, msg)
		return nil
	}
	return req
}

// respondOnGoroutine has the Handler respond to req, which may wait.
func (c *conn) respondOnGoroutine(req *http.Request) outcome {
	if req.ContentLength != 0 {
		// A body may take its time; the next request's wait sets the
		// idle deadline again.
		c.conn.SetReadDeadline(time.Time{})
	}
	c.acquireWriter()
	req.RemoteAddr = c.remote
	return c.respond(req, nil)
}

// flushIfIdle sends the buffered responses unless a request is buffered
// behind them (its response joins them), and then gives the write buffer
// back: an idle connection holds none. It reports false when the
// connection failed.
func (c *conn) flushIfIdle() bool {
	if c.br.Buffered() > 0 {
		return true
	}
	if err := c.bw.Flush(); err != nil {
		return false
	}
	c.releaseWriter()
	return true
}

// stopServing lets go of the connection as end says, once its goroutine
// stops serving it; after a panic it closes it.
func (c *conn) stopServing(end *ending) {
	if r := recover(); r != nil && r != http.ErrAbortHandler {
		c.srv.logger.Error("panic serving a request", "client", c.remote, "panic", r)
		if *end == giveBack {
			*end = closeConn
		}
	}
	switch *end {
	case giveBack:
		c.loop.takeBack(c)
	case handOver:
		c.forget()
	default:
		c.conn.Close()
		c.releaseWriter()
		c.releaseReader()
		c.forget()
	}
}

// outcome is what becomes of a connection once a request has its
// response.
type outcome int

const (
	keepOpen   outcome = iota // it may carry another request
	closeAfter                // it closes: asked to, a cut response, a failed write, an unread body
	hijacked                  // the handler took it over
)

// respond has a handler respond to req: lh, when an event loop responds,
// else the server's Handler.
func (c *conn) respond(req *http.Request, lh LoopHandler) outcome {
	w := &c.resp
	w.reset(c, req)
	if req.Body != nil && req.Body != http.NoBody {
		w.body.r = req.Body
		w.body.w = w
		w.body.expect = len(req.Header["Expect"]) > 0
		req.Body = &w.body
	}
	c.callHandler(w, req, lh)
	if w.hijacked {
		return hijacked
	}
	if w.aborted {
		return closeAfter // the response is cut: its connection ends
	}
	if !w.wroteHeader {
		w.WriteHeader(http.StatusOK)
	}
	w.finish()
	if w.err != nil || w.closeAfter {
		return closeAfter
	}
	if req.Body != nil && req.Body != http.NoBody && !w.body.eof {
		return closeAfter // an unread body stands between us and the next request
	}
	return keepOpen
}

// callHandler has the handler respond to req; a panic cuts the response.
func (c *conn) callHandler(w *response, req *http.Request, lh LoopHandler) {
	defer func() {
		if r := recover(); r != nil {
			if r != http.ErrAbortHandler {
				c.srv.logger.Error("panic serving a request", "client", c.remote, "path", req.URL.Path, "panic", r)
			}
			w.closeAfter = true
			w.aborted = true
		}
	}()
	if lh != nil {
		lh.ServeHTTP(w, req)
	} else {
		c.srv.Handler.ServeHTTP(w, req)
	}
}
