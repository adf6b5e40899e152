package router

import (
	"bufio"
	"context"
	"errors"
	"net"
	"sync"
	"syscall"
	"time"

	"github.com/jack-paas/jack/internal/router/http1"
)

// Sizes and limits of the connections to upstreams.
const (
	upstreamReadBuffer  = 16 << 10
	upstreamWriteBuffer = 4 << 10
	maxIdlePerUpstream  = 256
	upstreamIdleTimeout = 90 * time.Second
	// staleCheckAfter is how long a connection may sit idle before it is
	// checked, before reuse, for having been closed by the app (gunicorn,
	// for one, closes idle connections after 2s).
	staleCheckAfter = 100 * time.Millisecond
	dialTimeout     = 2 * time.Second
)

// upstreamConn is one keep-alive connection to an upstream, with its
// buffers. A request owns it from get to put (or close).
type upstreamConn struct {
	net.Conn
	br        *bufio.Reader
	bw        *bufio.Writer
	responses http1.ResponseReader
	idleAt    time.Time
	reused    bool // it served a request before this one
}

// connPool keeps the idle connections to one upstream, most recently used
// first, so that a burst reuses warm connections and the rest time out.
type connPool struct {
	addr   string
	dial   func(ctx context.Context, network, addr string) (net.Conn, error)
	mu     sync.Mutex
	idle   []*upstreamConn
	closed bool
}

func newConnPool(addr string, dial func(ctx context.Context, network, addr string) (net.Conn, error)) *connPool {
	return &connPool{addr: addr, dial: dial}
}

// get returns an idle connection that is still open, or dials a new one.
func (p *connPool) get(ctx context.Context) (*upstreamConn, error) {
	for {
		c := p.popIdle()
		if c == nil {
			break
		}
		if time.Since(c.idleAt) < staleCheckAfter || !closedByPeer(c.Conn) {
			c.reused = true
			return c, nil
		}
		c.Conn.Close()
	}
	ctx, cancel := context.WithTimeout(ctx, dialTimeout)
	defer cancel()
	conn, err := p.dial(ctx, "tcp", p.addr)
	if err != nil {
		return nil, err
	}
	if tc, ok := conn.(*net.TCPConn); ok {
		tc.SetNoDelay(true)
	}
	return &upstreamConn{
		Conn: conn,
		br:   bufio.NewReaderSize(conn, upstreamReadBuffer),
		bw:   bufio.NewWriterSize(conn, upstreamWriteBuffer),
	}, nil
}

func (p *connPool) popIdle() *upstreamConn {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := len(p.idle)
	if n == 0 {
		return nil
	}
	c := p.idle[n-1]
	p.idle[n-1] = nil
	p.idle = p.idle[:n-1]
	return c
}

// put gives a connection whose exchange ended cleanly back for reuse, or
// closes it when the pool is full or closed.
func (p *connPool) put(c *upstreamConn) {
	c.idleAt = time.Now()
	p.mu.Lock()
	if p.closed || len(p.idle) >= maxIdlePerUpstream {
		p.mu.Unlock()
		c.Conn.Close()
		return
	}
	p.idle = append(p.idle, c)
	p.mu.Unlock()
}

// closeIdle closes the connections idle since before cutoff (all of them
// for the zero time... and later ones too: pass time.Now() for all).
func (p *connPool) closeIdle(cutoff time.Time) {
	p.mu.Lock()
	var gone []*upstreamConn
	kept := p.idle[:0]
	for _, c := range p.idle {
		if c.idleAt.Before(cutoff) {
			gone = append(gone, c)
		} else {
			kept = append(kept, c)
		}
	}
	for i := len(kept); i < len(p.idle); i++ {
		p.idle[i] = nil
	}
	p.idle = kept
	p.mu.Unlock()
	for _, c := range gone {
		c.Conn.Close()
	}
}

// close closes every idle connection and refuses new ones: the upstream
// left for good.
func (p *connPool) close() {
	p.mu.Lock()
	p.closed = true
	idle := p.idle
	p.idle = nil
	p.mu.Unlock()
	for _, c := range idle {
		c.Conn.Close()
	}
}

// closedByPeer reports whether the peer closed conn (or sent something
// unasked) while it sat idle, by peeking at it without blocking.
func closedByPeer(conn net.Conn) bool {
	sc, ok := conn.(syscall.Conn)
	if !ok {
		return false
	}
	raw, err := sc.SyscallConn()
	if err != nil {
		return true
	}
	closed := false
	var buf [1]byte
	err = raw.Read(func(fd uintptr) bool {
		n, _, rerr := syscall.Recvfrom(int(fd), buf[:], syscall.MSG_PEEK|syscall.MSG_DONTWAIT)
		switch {
		case rerr == nil:
			closed = true // n == 0 is EOF; n > 0 is data nobody asked for
			_ = n
		case errors.Is(rerr, syscall.EAGAIN):
		default:
			closed = true
		}
		return true
	})
	return closed || err != nil
}
