//go:build linux

package router

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"runtime"
	"strconv"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// eventLoop serves the plain server's connections between requests, and
// the requests it can answer without waiting: static files held in
// memory, redirects, error pages. Each loop (loopCount of them) is a
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
// answer, a request body, an upgrade, a file read from disk, a head larger
// than the loop's 4 KiB buffer) is lent to a goroutine running the same
// code as before (edgeConn.serve), which keeps the connection while its
// client sends more and gives it back after hotWait without a request.
//
// The loop reads and writes the socket without waiting (edge-triggered:
// it reads until the socket has nothing more, and an answer the socket
// does not take at once waits in rawSocket.out for the socket to drain),
// and enforces the header and idle timeouts with a sweep instead of
// deadlines. Only the loop closes a connection it has; the server asks it
// to (poke) when it shuts down.
type eventLoop struct {
	srv    *edgeServer
	ep     int      // the epoll set
	file   *os.File // ep, for Go's poller to wait on
	rc     syscall.RawConn
	waitFn func(fd uintptr) bool
	wake   int // an eventfd: poke interrupts the wait with it
	events []syscall.EpollEvent
	ready  int         // events[:ready] are the last wait's
	flight flight      // reused by each answer the loop gives
	again  []*edgeConn // yielded their turn with requests left (serve)

	mu     sync.Mutex
	conns  map[uint64]*edgeConn // every connection of the loop, with it or lent out
	nextID uint64
	done   bool // the loop ended: connections given to it are closed
}

// wakeID is the epoll data of the wake eventfd; connections count from 1.
const wakeID = 0

// sweepEvery is how often a loop closes connections past their deadline.
const sweepEvery = 100 * time.Millisecond

// startLoops starts the event loops, or none when the system refuses one
// (the server then gives each connection a goroutine).
func startLoops(s *edgeServer) []*eventLoop {
	var loops []*eventLoop
	for range loopCount(runtime.GOMAXPROCS(0), os.Getenv(loopsEnv)) {
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

// loopCount is how many event loops serve: half the processors (at least
// one), so that the other half runs what waits on goroutines (proxied
// requests, TLS, the access log, the collector) without taking turns with
// a loop; or the count setting says (JACK_ROUTER_LOOPS, 0: none).
//
// Why not a loop per processor: with the load generator on the same cores,
// a loop per core serves a few more requests than one, but the busy
// threads then outnumber the cores and the tail grows long; one loop keeps
// about nginx's p99 (bench/README.md, "How many loops").
func loopCount(procs int, setting string) int {
	if n, err := strconv.Atoi(setting); err == nil && n >= 0 {
		return n
	}
	return max(1, procs/2)
}

func newEventLoop(s *edgeServer) (*eventLoop, error) {
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
	l := &eventLoop{srv: s, ep: ep, file: os.NewFile(uintptr(ep), "epoll"), wake: wake,
		events: make([]syscall.EpollEvent, 256), conns: map[uint64]*edgeConn{}}
	l.waitFn = l.waitFD
	if l.rc, err = l.file.SyscallConn(); err != nil {
		l.file.Close()
		syscall.Close(wake)
		return nil, err
	}
	return l, nil
}

// add takes a new connection.
func (l *eventLoop) add(c *edgeConn) {
	c.expires.Store(time.Now().Add(l.srv.idleTimeout).UnixNano())
	c.bare.Store(true)
	c.inLoop.Store(true)
	l.mu.Lock()
	if l.done {
		l.mu.Unlock()
		l.close(c)
		return
	}
	l.nextID++
	c.id = l.nextID
	l.conns[c.id] = c
	// Registered under the lock: stop closes the epoll set under it.
	err := c.raw.watch(l.ep, syscall.EPOLL_CTL_ADD, c.id)
	l.mu.Unlock()
	if err != nil {
		l.srv.logger.Warn("could not watch a connection", "client", c.remote, "err", err)
		l.close(c)
	}
}

// remove forgets a connection that is closed or hijacked.
func (l *eventLoop) remove(c *edgeConn) {
	l.mu.Lock()
	delete(l.conns, c.id)
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
				c.raw.drained = false // something arrived, or the socket drained
				if ev.Events&(syscall.EPOLLRDHUP|syscall.EPOLLHUP|syscall.EPOLLERR) != 0 {
					c.raw.hup = true // read to the end, whatever a short read says
				}
				l.serve(c)
			}
		}
		turn := l.again
		l.again = nil
		for _, c := range turn {
			c.yielded = false
			if c.inLoop.Load() && !c.closed.Load() {
				l.serve(c)
			}
		}
		if l.srv.closing.Load() && l.closeIdle() {
			l.stop()
			return
		}
		if now.Sub(swept) >= sweepEvery {
			swept = now
			l.sweep(now)
		}
		// While the loop has connections, its wait ends in time for the
		// next sweep.
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

// answersPerTurn is how many requests of one connection a loop answers
// before it serves the others: a client pipelining thousands of requests
// holds the loop up no longer than one answering 16.
const answersPerTurn = 16

// serve answers c's requests until its socket has nothing more to read, a
// request needs a goroutine, or the connection ends.
func (l *eventLoop) serve(c *edgeConn) {
	if len(c.raw.out) > 0 {
		if err := c.raw.flush(); err != nil {
			l.close(c)
			return
		}
		if len(c.raw.out) > 0 {
			return // the socket is still full
		}
	}
	if c.ending {
		l.close(c)
		return
	}
	for answered := 0; ; answered++ {
		buffered := c.br != nil && c.br.Buffered() > 0
		if l.srv.closing.Load() && !buffered {
			l.close(c)
			return
		}
		if !buffered && c.raw.drained && !c.raw.hup {
			l.await(c)
			return
		}
		if answered == answersPerTurn {
			// More is buffered or may be unread (the edge that told of it
			// is spent): the connection comes back after the others.
			if !c.yielded {
				c.yielded = true
				l.again = append(l.again, c)
			}
			return
		}
		c.acquireReader()
		whole, err := readHead(c.br)
		switch {
		case errors.Is(err, bufioFull):
			l.lend(c, nil) // a head larger than the buffer: read with the goroutine's limits
			return
		case errors.Is(err, io.EOF) && c.br.Buffered() > 0:
			// The client closed its side within a head: the parser below
			// says what is wrong with it, as it does for the goroutines.
		case err != nil:
			l.close(c)
			return
		case !whole:
			if c.br.Buffered() == 0 {
				l.await(c)
			} else if c.idle.Load() {
				// A request has begun: it has the header timeout.
				c.idle.Store(false)
				c.bare.Store(false)
				c.expires.Store(time.Now().Add(l.srv.readHeaderTimeout).UnixNano())
			}
			return
		}
		c.idle.Store(false)
		c.bare.Store(false)
		req, err := c.read.head.read(c.br)
		if err != nil {
			c.refuse(err)
			l.end(c)
			return
		}
		if status, msg := checkRequest(req); status != 0 {
			c.writeError(status, msg)
			l.end(c)
			return
		}
		t := l.srv.proxy.table.Load()
		if !l.srv.proxy.answersAtOnce(req, t) {
			l.lend(c, req)
			return
		}
		c.acquireWriter()
		req.RemoteAddr = c.remote
		keep, hijacked := c.answer(req, t, &l.flight)
		if hijacked { // no answer given at once hijacks; should one, it has the connection
			c.inLoop.Store(false)
			c.forget()
			return
		}
		err = c.bw.Flush()
		c.releaseWriter()
		if err != nil {
			l.close(c)
			return
		}
		if !keep {
			l.end(c)
			return
		}
		if len(c.raw.out) > 0 {
			c.expires.Store(time.Now().Add(l.srv.idleTimeout).UnixNano())
			return // the rest goes when the socket drains
		}
	}
}

// await leaves c waiting for its next request, holding no buffer.
func (l *eventLoop) await(c *edgeConn) {
	c.releaseReader()
	c.idle.Store(true)
	c.bare.Store(c.bw == nil && c.read == nil)
	c.expires.Store(time.Now().Add(l.srv.idleTimeout).UnixNano())
}

// end closes c once its last answer is sent.
func (l *eventLoop) end(c *edgeConn) {
	if c.bw != nil {
		c.bw.Flush()
		c.releaseWriter()
	}
	if len(c.raw.out) == 0 {
		l.close(c)
		return
	}
	c.ending = true
	c.expires.Store(time.Now().Add(5 * time.Second).UnixNano())
}

// close closes a connection the loop has.
func (l *eventLoop) close(c *edgeConn) {
	c.conn.Close()
	c.releaseWriter()
	c.releaseReader()
	c.raw.out = nil
	c.forget()
}

// lend gives c to a goroutine, with the request the loop read (nil: the
// goroutine reads it).
func (l *eventLoop) lend(c *edgeConn, req *http.Request) {
	c.inLoop.Store(false)
	c.lr.raw = nil
	// Out of the loop's set while lent: its requests would wake the loop
	// for nothing.
	if err := c.raw.watch(l.ep, syscall.EPOLL_CTL_DEL, c.id); err != nil {
		l.srv.logger.Warn("could not stop watching a connection", "client", c.remote, "err", err)
	}
	go c.serve(req)
}

// takeBack is how a goroutine gives c back once no request is buffered.
// It runs on the goroutine.
func (l *eventLoop) takeBack(c *edgeConn) {
	c.releaseWriter()
	c.releaseReader()
	c.conn.SetDeadline(time.Time{}) // a passed deadline would fail the loop's reads
	c.lr.raw = &c.raw
	c.raw.drained = false
	c.idle.Store(true)
	c.bare.Store(true)
	c.expires.Store(time.Now().Add(l.srv.idleTimeout).UnixNano())
	c.inLoop.Store(true)
	// Back into the set: bytes that came while the goroutine had c raise
	// their event now (an edge-triggered add reports what is ready).
	l.mu.Lock()
	err := net.ErrClosed
	if !l.done {
		err = c.raw.watch(l.ep, syscall.EPOLL_CTL_ADD, c.id)
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

// closeIdle closes, while the server shuts down, the connections waiting
// for a request (all of them once the server is closed), and reports
// whether the loop has none left.
func (l *eventLoop) closeIdle() bool {
	closed := l.srv.closed.Load()
	return l.closeWhere(func(c *edgeConn) bool { return closed || c.idle.Load() && len(c.raw.out) == 0 }) == 0
}

// closeAll closes every connection the loop has.
func (l *eventLoop) closeAll() {
	l.closeWhere(func(*edgeConn) bool { return true })
}

// sweep closes the connections past their deadline: silent or slow
// clients, and those that stopped reading their answer.
func (l *eventLoop) sweep(now time.Time) {
	l.closeWhere(func(c *edgeConn) bool { return c.expires.Load() < now.UnixNano() })
}

// closeWhere closes the connections the loop has (not those lent out) for
// which drop holds, and returns how many connections it still counts.
func (l *eventLoop) closeWhere(drop func(*edgeConn) bool) int {
	var doomed []*edgeConn
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

// errWouldBlock is a loop's read that found nothing to read.
var errWouldBlock = errors.New("nothing to read yet")

// rawSocket reads and writes a connection's socket without waiting, for
// the event loop, through the connection's RawConn (which keeps the
// descriptor from being closed and reused under a call).
type rawSocket struct {
	rc      syscall.RawConn
	readFn  func(fd uintptr) bool // method values, made once
	writeFn func(fd uintptr) bool
	p       []byte
	n       int
	errno   error

	out     []byte // answer bytes the socket has not taken yet
	drained bool   // the last read found the socket empty
	hup     bool   // the client has closed its side, or the socket failed
}

// init prepares the socket of conn, and reports false when conn has none.
func (r *rawSocket) init(conn net.Conn) bool {
	tc, ok := conn.(*net.TCPConn)
	if !ok {
		return false
	}
	rc, err := tc.SyscallConn()
	if err != nil {
		return false
	}
	r.rc, r.readFn, r.writeFn = rc, r.readFD, r.writeFD
	return true
}

// watch adds the socket to epoll set ep (op EPOLL_CTL_ADD), edge-triggered
// with id as its data, or removes it (EPOLL_CTL_DEL). A goroutine giving
// the connection back calls it as the loop may begin to use the socket, so
// it keeps its state to itself.
func (r *rawSocket) watch(ep, op int, id uint64) error {
	ev := syscall.EpollEvent{Events: syscall.EPOLLIN | syscall.EPOLLOUT | syscall.EPOLLRDHUP | unix.EPOLLET,
		Fd: int32(uint32(id)), Pad: int32(uint32(id >> 32))}
	var err error
	if cerr := r.rc.Control(func(fd uintptr) { err = syscall.EpollCtl(ep, op, int(fd), &ev) }); cerr != nil {
		return cerr
	}
	return err
}

// read reads what the socket has, errWouldBlock when nothing, io.EOF at
// its end.
func (r *rawSocket) read(p []byte) (int, error) {
	r.p = p
	err := r.rc.Read(r.readFn)
	r.p = nil
	if err != nil {
		return 0, err
	}
	switch n, errno := r.n, r.errno; {
	case errno == syscall.EAGAIN:
		r.drained = true
		return 0, errWouldBlock
	case errno != nil:
		return 0, errno
	case n == 0:
		return 0, io.EOF
	default:
		r.drained = n < len(p) // a short read emptied the socket
		return n, nil
	}
}

func (r *rawSocket) readFD(fd uintptr) bool {
	for {
		r.n, r.errno = syscall.Read(int(fd), r.p)
		if r.errno != syscall.EINTR {
			return true
		}
	}
}

// Write sends p as far as the socket takes it and keeps the rest in out
// for flush; it fails only when the connection does.
func (r *rawSocket) Write(p []byte) (int, error) {
	if len(r.out) > 0 {
		r.out = append(r.out, p...)
		return len(p), nil
	}
	n, err := r.send(p)
	if err != nil {
		return n, err
	}
	if n < len(p) {
		r.out = append(r.out[:0], p[n:]...)
	}
	return len(p), nil
}

// flush sends what out holds as far as the socket takes it.
func (r *rawSocket) flush() error {
	n, err := r.send(r.out)
	if err != nil {
		return err
	}
	rest := copy(r.out, r.out[n:])
	r.out = r.out[:rest]
	if rest == 0 && cap(r.out) > 64<<10 {
		r.out = nil // a big answer's room goes back
	}
	return nil
}

// send writes p until the socket is full, and returns how much it took.
func (r *rawSocket) send(p []byte) (int, error) {
	sent := 0
	for sent < len(p) {
		r.p = p[sent:]
		err := r.rc.Write(r.writeFn)
		r.p = nil
		if err != nil {
			return sent, err
		}
		if r.errno == syscall.EAGAIN {
			break
		}
		if r.errno != nil {
			return sent, r.errno
		}
		sent += r.n
	}
	return sent, nil
}

func (r *rawSocket) writeFD(fd uintptr) bool {
	for {
		r.n, r.errno = syscall.Write(int(fd), r.p)
		if r.errno != syscall.EINTR {
			return true
		}
	}
}
