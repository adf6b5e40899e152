package http1

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// Server serves HTTP/1.x on plain TCP connections. Each connection has one
// goroutine that reads a request (the common ones with headReader, the
// others with net/http's own parser, http.ReadRequest), has the Handler
// respond, and writes the response's head and body through one buffer, so
// that a small response leaves in one system call.
//
// On Linux the goroutine is only lent: connections wait for requests in
// event loops (loop_linux.go) which respond on the spot to what needs
// nothing but memory, and hand the rest to a goroutine that gives the
// connection back when it is idle again.
//
// Set the Handler and the limits before Serve; they are not changed after.
type Server struct {
	// Handler responds to the requests.
	Handler Handler
	// Logger says what went wrong serving a connection; nil for nothing.
	Logger *slog.Logger
	// ReadHeaderTimeout bounds how long a request's head may take to come.
	ReadHeaderTimeout time.Duration
	// IdleTimeout bounds how long a connection waits for its next request.
	IdleTimeout time.Duration
	// MaxHeaderBytes bounds the size of a request's head; past it the
	// request is refused with 431.
	MaxHeaderBytes int64
	// EventLoops is how many event loops serve the connections between
	// requests, on Linux (elsewhere none); 0 for none, a goroutine then
	// serves each connection all its life. LoopCount says how many suit.
	EventLoops int

	logger        *slog.Logger
	mu            sync.Mutex
	conns         map[*conn]struct{}
	listener      net.Listener
	closing       atomic.Bool    // responses close their connections; idle ones are closed
	closed        atomic.Bool    // Close: every connection is closed
	keepAlivesOff atomic.Bool    // responses close their connections
	wg            sync.WaitGroup // one per connection

	loops    []*eventLoop // nil: a goroutine serves each connection all its life
	nextLoop int
}

// Serve accepts connections on ln until it is closed. It returns
// http.ErrServerClosed after Shutdown or Close.
func (s *Server) Serve(ln net.Listener) error {
	s.mu.Lock()
	s.listener = ln
	if s.conns == nil {
		s.init()
	}
	s.mu.Unlock()
	var backoff time.Duration
	for {
		nc, err := ln.Accept()
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
		s.serveConn(nc)
	}
}

// init prepares the server's state and starts its event loops; s.mu is
// held.
func (s *Server) init() {
	s.conns = map[*conn]struct{}{}
	s.logger = s.Logger
	if s.logger == nil {
		s.logger = slog.New(slog.DiscardHandler)
	}
	s.loops = startLoops(s, s.EventLoops)
}

// serveConn gives a new connection to an event loop, or to a goroutine of
// its own.
func (s *Server) serveConn(nc net.Conn) {
	c := s.newConn(nc)
	switch {
	case c == nil:
		nc.Close()
	case c.loop != nil:
		c.loop.add(c)
	default:
		go c.serve(nil)
	}
}

// SetKeepAlivesEnabled(false) has every response close its connection,
// so that clients reconnect (to a router that took this one's sockets),
// as net/http's Server.SetKeepAlivesEnabled does.
func (s *Server) SetKeepAlivesEnabled(v bool) {
	s.keepAlivesOff.Store(!v)
}

// Shutdown stops accepting, closes idle connections, and waits for the
// responses in flight (each then closes its connection) until ctx ends.
func (s *Server) Shutdown(ctx context.Context) error {
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
func (s *Server) Close() {
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
func (s *Server) closeIdle() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for c := range s.conns {
		if c.idle.Load() && !c.inLoop.Load() {
			c.conn.Close()
		}
	}
	s.pokeLoops() // they close their idle connections themselves
}

func (s *Server) pokeLoops() {
	for _, l := range s.loops {
		l.poke()
	}
}

// closesAfterResponse reports whether every response now closes its
// connection: the server shuts down, or keep-alives are off.
func (s *Server) closesAfterResponse() bool {
	return s.closing.Load() || s.keepAlivesOff.Load()
}

// LoopCount is how many event loops suit procs processors: half of them
// (at least one), so that the other half runs what waits on goroutines
// (proxied requests, TLS, the access log, the collector) without taking
// turns with a loop; or as many as setting says when it is a count (the
// router's JACK_ROUTER_LOOPS; 0 for none).
//
// Why not a loop per processor: with the load generator on the same cores,
// a loop per core serves a few more requests than one, but the busy
// threads then outnumber the cores and the tail grows long; one loop keeps
// about nginx's p99 (bench/README.md, "How many loops").
func LoopCount(procs int, setting string) int {
	if n, err := strconv.Atoi(setting); err == nil && n >= 0 {
		return n
	}
	return max(1, procs/2)
}
