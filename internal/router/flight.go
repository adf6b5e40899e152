package router

import (
	"encoding/hex"
	"math/rand/v2"
	"net/http"
	"time"
)

// flight is one request on its way through the router. It can be cut (by
// a drain that times out, or a client that left), which closes what it
// waits on, and it is a node of its upstream's in-flight list.
type flight struct {
	flightCut

	start      time.Time
	host       string
	client     string // the client's IP address
	requestID  string
	upgrade    string // the protocol asked for with Connection: Upgrade
	bodyless   bool   // safe to send again after a failed connection
	idempotent bool   // safe to send again even after a reset

	route  *route
	stats  *envStats        // whose in-flight count this request is in
	target *target          // the upstream it is in flight to; nil if none
	tried  []*upstreamState // upstreams that failed it, for retries

	prev, next *flight // guarded by target.state.mu
}

type acquireResult int

const (
	acquired   acquireResult = iota
	noRoute                  // the host is not in the table
	noUpstream               // the route has no upstream (left to try)
)

// acquire puts f in flight to the least loaded upstream of its host's route
// that it has not tried. If the table changed while it chose, it chooses
// again from the new one, so that a drain started after SetRoutes returned
// either sees f or f never reaches the drained upstream.
func (p *Proxy) acquire(f *flight) acquireResult {
	for {
		t := p.table.Load()
		r := t.lookup(f.host)
		if r == nil {
			return noRoute
		}
		f.route = r
		tg := r.pick(f.tried)
		if tg == nil {
			return noUpstream
		}
		tg.state.add(f)
		if p.table.Load() == t {
			f.target = tg
			return acquired
		}
		tg.state.remove(f)
	}
}

// release takes f out of flight.
func (p *Proxy) release(f *flight) {
	if f.target != nil {
		f.target.state.remove(f)
		f.target = nil
	}
}

// reacquire moves f from the upstream that failed it to another one of its
// route, and reports whether there was one.
func (p *Proxy) reacquire(f *flight) bool {
	failed := f.target
	f.tried = append(f.tried, failed.state)
	p.release(f)
	return p.acquire(f) == acquired
}

// newRequestID returns 32 random hex digits.
func newRequestID() string {
	var raw [16]byte
	var out [32]byte
	a, b := rand.Uint64(), rand.Uint64()
	for i := range 8 {
		raw[i] = byte(a >> (8 * i))
		raw[8+i] = byte(b >> (8 * i))
	}
	hex.Encode(out[:], raw[:])
	return string(out[:])
}

// requestIDOf returns the client's X-Request-Id when it is a sensible one
// (1 to 200 visible ASCII characters), else a new one.
func requestIDOf(h http.Header) string {
	if v := h["X-Request-Id"]; len(v) == 1 && len(v[0]) > 0 && len(v[0]) <= 200 {
		ok := true
		for i := 0; i < len(v[0]); i++ {
			if c := v[0][i]; c <= ' ' || c >= 0x7f {
				ok = false
				break
			}
		}
		if ok {
			return v[0]
		}
	}
	return newRequestID()
}

// clientIP returns the IP of a RemoteAddr ("ip:port" or "[ip]:port").
func clientIP(remote string) string {
	if i := lastByte(remote, ':'); i > 0 {
		remote = remote[:i]
	}
	if len(remote) > 1 && remote[0] == '[' && remote[len(remote)-1] == ']' {
		remote = remote[1 : len(remote)-1]
	}
	return remote
}

func lastByte(s string, c byte) int {
	for i := len(s) - 1; i >= 0; i-- {
		if s[i] == c {
			return i
		}
	}
	return -1
}
