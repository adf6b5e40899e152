package router

import (
	"errors"
	"net"
	"sync"
	"time"
)

// watchAfter is how long a request waits for its answer before the plain
// server starts watching whether its client is still there.
const watchAfter = time.Second

// errClientGone cancels a request whose client closed its connection.
var errClientGone = errors.New("the client closed its connection")

// clientWatch notices a client that goes away while the app has not
// answered yet, so that the app's request is cut instead of running on for
// nobody (net/http's server reads ahead on every request for this; the
// plain server does it only for requests that take a while).
type clientWatch struct {
	mu      sync.Mutex
	timer   *time.Timer
	c       *edgeConn
	gone    func()
	active  bool // the timer is set for the current request
	running bool // a goroutine is peeking at the connection
	done    chan struct{}
}

// watchClient calls gone if the client of a bodyless request closes its
// connection before stop is called; it starts looking after watchAfter.
// The caller must call stop before answering.
func (w *edgeResponse) watchClient(gone func()) (stop func()) {
	if w.req.ContentLength != 0 || w.hijacked {
		return func() {}
	}
	cw := &w.c.watch
	cw.mu.Lock()
	cw.c, cw.gone, cw.active = w.c, gone, true
	if cw.timer == nil {
		cw.timer = time.AfterFunc(watchAfter, cw.start)
	} else {
		cw.timer.Reset(watchAfter)
	}
	cw.mu.Unlock()
	return cw.stop
}

// start peeks at the connection until it has data (a pipelined request:
// the client is there), fails (the client is gone) or stop interrupts it.
func (cw *clientWatch) start() {
	cw.mu.Lock()
	if !cw.active {
		cw.mu.Unlock()
		return
	}
	cw.running = true
	cw.done = make(chan struct{})
	c, gone, done := cw.c, cw.gone, cw.done
	cw.mu.Unlock()
	go func() {
		defer close(done)
		_, err := c.br.Peek(1)
		var ne net.Error
		if err != nil && !(errors.As(err, &ne) && ne.Timeout()) {
			gone()
		}
	}()
}

// stop ends the watch of the current request.
func (cw *clientWatch) stop() {
	cw.mu.Lock()
	cw.active = false
	if cw.timer != nil {
		cw.timer.Stop()
	}
	running, done, c := cw.running, cw.done, cw.c
	cw.running = false
	cw.mu.Unlock()
	if running {
		c.conn.SetReadDeadline(time.Unix(1, 0)) // interrupt the peek
		<-done
		c.conn.SetReadDeadline(time.Time{})
	}
}
