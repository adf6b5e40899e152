package http1

import (
	"errors"
	"net"
	"sync"
	"time"
)

// WatchAfter is how long a request waits for its response before the
// server starts watching whether its client is still there.
const WatchAfter = time.Second

// clientWatch notices a client that goes away while its request waits for
// its response, so that the handler can stop working for nobody
// (net/http's server reads ahead on every request for this; this server
// does it only for requests that take a while).
type clientWatch struct {
	mu      sync.Mutex
	timer   *time.Timer
	c       *conn
	gone    func()
	active  bool // the timer is set for the current request
	running bool // a goroutine is peeking at the connection
	done    chan struct{}
}

// WatchClient calls gone if the client of a bodyless request closes its
// connection before stop is called; it starts looking after WatchAfter.
// The caller must call stop before responding.
func (w *response) WatchClient(gone func()) (stop func()) {
	if w.req.ContentLength != 0 || w.hijacked {
		return func() {}
	}
	cw := &w.c.watch
	cw.mu.Lock()
	cw.c, cw.gone, cw.active = w.c, gone, true
	if cw.timer == nil {
		cw.timer = time.AfterFunc(WatchAfter, cw.start)
	} else {
		cw.timer.Reset(WatchAfter)
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
