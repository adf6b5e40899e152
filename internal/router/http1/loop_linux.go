//go:build linux

package http1

import (
	"errors"
	"os"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// eventLoop serves a Server's connections between requests, and the
// requests its handler responds to without waiting: files held in memory,
// redirects, error pages. Each loop (Server.EventLoops of them) is a
// goroutine with its own epoll set that serves the connections that are
// ready in the order the kernel reports them, as nginx's workers do; when
// none is, it waits for Go's poller to see its epoll set ready (epoll sets
// nest), so it blocks no thread. (A loop blocking its own thread in
// epoll_wait made each request at low load slower: each wake-up had to win
// a processor back from the scheduler; bench/README.md, "The event loops".)
//
// Why not a goroutine per connection alone: with the load generator
// sharing the processors, Go's scheduler serves a batch of readied
// goroutines last-ready-first and polls the network only when a processor
// runs out of work, which left the p99 of a small static file above
// nginx's (bench/README.md). A request that must wait (an upstream's
// response, a request body, an upgrade, a file read from disk, a head
// larger than the loop's 4 KiB buffer) is lent to a goroutine running the
// same code as before (conn.serve), which keeps the connection while its
// client sends more and gives it back after hotWait without a request.
//
// The loop reads and writes the socket without waiting (edge-triggered:
// it reads until the socket has nothing more, and a response the socket
// does not take at once waits in rawSocket.out for the socket to drain),
// and enforces the header and idle timeouts with a sweep instead of
// deadlines (loopState.expires). Only the loop closes a connection it
// has; the server asks it to (poke) when it shuts down.
type eventLoop struct {
	srv     *Server
	handler LoopHandler // the loop's own, for the requests it responds to
	ep      int         // the epoll set
	file    *os.File    // ep, for Go's poller to wait on
	rc      syscall.RawConn
	waitFn  func(fd uintptr) bool
	wake    int // an eventfd: poke interrupts the wait with it
	events  []syscall.EpollEvent
	ready   int     // events[:ready] are the last wait's
	again   []*conn // yielded their turn with requests left (serve)

	mu     sync.Mutex
	conns  map[uint64]*conn // every connection of the loop, with it or lent out
	nextID uint64
	done   bool // the loop ended: connections given to it are closed
}

// loopState is what an event loop keeps of each of its connections.
type loopState struct {
	id      uint64       // the connection's key in the loop's conns and epoll set
	expires atomic.Int64 // unix nanoseconds: the loop closes it then
	raw     rawSocket
	ending  bool // close once the response is sent
	yielded bool // in its loop's again list
}

// wakeID is the epoll data of the wake eventfd; connections count from 1.
const wakeID = 0

// sweepEvery is how often a loop closes connections past their deadline.
const sweepEvery = 100 * time.Millisecond

// startLoops starts n event loops, or none when the system refuses one
// (the server then gives each connection a goroutine).
func startLoops(s *Server, n int) []*eventLoop {
	var loops []*eventLoop
	for range n {
		l, err := newEventLoop(s)
		if err != nil {
			s.logger.Warn("serving plain HTTP with a goroutine per connection", "err", err)
			for _, l := range loops {
				l.stop()
			}
			return nil
		}
		loops = append(loops, l)
	}
	for _, l := range loops {
		go l.run()
	}
	return loops
}

func newEventLoop(s *Server) (*eventLoop, error) {
	ep, err := syscall.EpollCreate1(syscall.EPOLL_CLOEXEC)
	if err != nil {
		return nil, err
	}
	wake, err := unix.Eventfd(0, unix.EFD_NONBLOCK|unix.EFD_CLOEXEC)
	if err != nil {
		syscall.Close(ep)
		return nil, err
	}
	ev := syscall.EpollEvent{Events: syscall.EPOLLIN}
	err = syscall.EpollCtl(ep, syscall.EPOLL_CTL_ADD, wake, &ev)
	if err == nil {
		// Non-blocking, so that os.NewFile has Go's poller watch it.
		err = syscall.SetNonblock(ep, true)
	}
	if err != nil {
		syscall.Close(ep)
		syscall.Close(wake)
		return nil, err
	}
	l := &eventLoop{srv: s, handler: s.Handler.NewLoopHandler(), ep: ep, file: os.NewFile(uintptr(ep), "epoll"),
		wake: wake, events: make([]syscall.EpollEvent, 256), conns: map[uint64]*conn{}}
	l.waitFn = l.waitFD
	if l.rc, err = l.file.SyscallConn(); err != nil {
		l.file.Close()
		syscall.Close(wake)
		return nil, err
	}
	return l, nil
}

// add takes a new connection.
func (l *eventLoop) add(c *conn) {
	c.polled.expires.Store(time.Now().Add(l.srv.IdleTimeout).UnixNano())
	c.bare.Store(true)
	c.inLoop.Store(true)
	l.mu.Lock()
	if l.done {
		l.mu.Unlock()
		l.close(c)
		return
	}
	l.nextID++
	c.polled.id = l.nextID
	l.conns[c.polled.id] = c
	// Registered under the lock: stop closes the epoll set under it.
	err := c.polled.raw.watch(l.ep, syscall.EPOLL_CTL_ADD, c.polled.id)
	l.mu.Unlock()
	if err != nil {
		l.srv.logger.Warn("could not watch a connection", "client", c.remote, "err", err)
		l.close(c)
	}
}

// remove forgets a connection that is closed or hijacked.
func (l *eventLoop) remove(c *conn) {
	l.mu.Lock()
	delete(l.conns, c.polled.id)
	l.mu.Unlock()
}

// poke interrupts the loop's wait, to look at the server's state.
func (l *eventLoop) poke() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.done {
		one := [8]byte{1}
		syscall.Write(l.wake, one[:])
	}
}

// stop ends the loop: it closes its epoll set and its eventfd.
func (l *eventLoop) stop() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.done {
		l.done = true
		l.file.Close()
		syscall.Close(l.wake)
	}
}

// run serves ready connections, until the server has shut down and the
// loop has no connection left.
func (l *eventLoop) run() {
	swept := time.Now()
	var next time.Time // when the wait times out for a sweep; zero: never
	for {
		l.ready = 0 // a passed deadline fails the read before waitFD runs
		err := l.rc.Read(l.waitFn)
		now := time.Now()
		switch {
		case errors.Is(err, os.ErrDeadlineExceeded):
			next = time.Time{}
		case err != nil:
			if !l.srv.closing.Load() {
				l.srv.logger.Error("event loop failed", "err", err)
			}
			l.closeAll()
			l.stop()
			return
		}
		l.serveReady()
		l.serveYielded()
		if l.srv.closing.Load() && l.closeIdle() {
			l.stop()
			return
		}
		if now.Sub(swept) >= sweepEvery {
			swept = now
			l.sweep(now)
		}
		next = l.wakeForSweep(next, swept)
	}
}

// waitFD takes the ready events of the loop's epoll set, and returns false
// when there are none: the loop's goroutine then waits for Go's poller to
// see the set ready (epoll sets nest), instead of blocking a thread.
func (l *eventLoop) waitFD(fd uintptr) bool {
	n, err := syscall.EpollWait(int(fd), l.events, 0)
	l.ready = max(n, 0)
	return n > 0 || err != nil || len(l.again) > 0
}

// serveReady serves the connections of the last wait's events.
func (l *eventLoop) serveReady() {
	for _, ev := range l.events[:l.ready] {
		id := uint64(uint32(ev.Fd)) | uint64(uint32(ev.Pad))<<32
		if id == wakeID {
			var b [8]byte
			syscall.Read(l.wake, b[:])
			continue
		}
		l.mu.Lock()
		c := l.conns[id]
		l.mu.Unlock()
		if c != nil && c.inLoop.Load() {
			c.polled.raw.drained = false // something arrived, or the socket drained
			if ev.Events&(syscall.EPOLLRDHUP|syscall.EPOLLHUP|syscall.EPOLLERR) != 0 {
				c.polled.raw.hup = true // read to the end, whatever a short read says
			}
			l.serve(c)
		}
	}
}

// serveYielded serves again the connections that yielded their turn.
func (l *eventLoop) serveYielded() {
	turn := l.again
	l.again = nil
	for _, c := range turn {
		c.polled.yielded = false
		if c.inLoop.Load() && !c.closed.Load() {
			l.serve(c)
		}
	}
}

// wakeForSweep has the loop's wait end in time for the sweep after swept
// while the loop has connections, and not otherwise; next is when the
// wait ends now (zero: never), and it returns when it ends from now on.
func (l *eventLoop) wakeForSweep(next, swept time.Time) time.Time {
	l.mu.Lock()
	some := len(l.conns) > 0
	l.mu.Unlock()
	switch {
	case some && next.IsZero():
		next = swept.Add(sweepEvery)
		l.file.SetReadDeadline(next)
	case !some && !next.IsZero():
		next = time.Time{}
		l.file.SetReadDeadline(next)
	}
	return next
}

// closeIdle closes, while the server shuts down, the connections waiting
// for a request (all of them once the server is closed), and reports
// whether the loop has none left.
func (l *eventLoop) closeIdle() bool {
	closed := l.srv.closed.Load()
	return l.closeWhere(func(c *conn) bool { return closed || c.idle.Load() && len(c.polled.raw.out) == 0 }) == 0
}

// closeAll closes every connection the loop has.
func (l *eventLoop) closeAll() {
	l.closeWhere(func(*conn) bool { return true })
}

// sweep closes the connections past their deadline: silent or slow
// clients, and those that stopped reading their response.
func (l *eventLoop) sweep(now time.Time) {
	l.closeWhere(func(c *conn) bool { return c.polled.expires.Load() < now.UnixNano() })
}

// closeWhere closes the connections the loop has (not those lent out) for
// which drop holds, and returns how many connections it still counts.
func (l *eventLoop) closeWhere(drop func(*conn) bool) int {
	var doomed []*conn
	l.mu.Lock()
	for _, c := range l.conns {
		if c.inLoop.Load() && drop(c) {
			doomed = append(doomed, c)
		}
	}
	l.mu.Unlock()
	for _, c := range doomed {
		l.close(c)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.conns)
}
