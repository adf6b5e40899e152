package router

import (
	"math"
	"sync"
	"sync/atomic"
	"time"
)

// upstreamState counts and tracks the requests in flight to one upstream.
// It lives in the registry, outside any table, so swapping tables neither
// resets the counts the balancer reads nor loses the requests a drain waits
// for.
type upstreamState struct {
	id       string
	pool     *connPool    // keep-alive connections to it
	counters              // what it responded, for the metrics
	inflight atomic.Int64 // read lock-free by the balancer
	// failedUntil (unix nanoseconds; 0 when fine) is set when a connection to
	// the upstream failed: until then the balancer prefers the others, so
	// that an instance that died costs one failed dial, not one per request.
	failedUntil atomic.Int64

	mu   sync.Mutex
	head *flight       // requests in flight, an intrusive list
	idle chan struct{} // closed when inflight drops to zero; nil when nobody waits

	lastInTable time.Time // guarded by the registry's lock
}

// add records f as in flight to u.
func (u *upstreamState) add(f *flight) {
	u.mu.Lock()
	f.prev, f.next = nil, u.head
	if u.head != nil {
		u.head.prev = f
	}
	u.head = f
	u.inflight.Add(1)
	u.mu.Unlock()
}

// remove records that f is no longer in flight to u, waking drains when it
// was the last.
func (u *upstreamState) remove(f *flight) {
	u.mu.Lock()
	if f.prev != nil {
		f.prev.next = f.next
	} else {
		u.head = f.next
	}
	if f.next != nil {
		f.next.prev = f.prev
	}
	f.prev, f.next = nil, nil
	if u.inflight.Add(-1) == 0 && u.idle != nil {
		close(u.idle)
		u.idle = nil
	}
	u.mu.Unlock()
}

// idleChan returns a channel closed when u has no request in flight, or nil
// when it has none now.
func (u *upstreamState) idleChan() <-chan struct{} {
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.inflight.Load() == 0 {
		return nil
	}
	if u.idle == nil {
		u.idle = make(chan struct{})
	}
	return u.idle
}

// cancelAll cancels every request in flight to u with cause and returns how
// many there were.
func (u *upstreamState) cancelAll(cause error) int {
	u.mu.Lock()
	var flights []*flight
	for f := u.head; f != nil; f = f.next {
		flights = append(flights, f)
	}
	u.mu.Unlock()
	for _, f := range flights {
		f.cut(cause)
	}
	return len(flights)
}

// failCooldown is how long an upstream that refused a connection is passed
// over while others are available.
const failCooldown = 2 * time.Second

// markFailed records that a connection to u just failed.
func (u *upstreamState) markFailed() {
	u.failedUntil.Store(time.Now().Add(failCooldown).UnixNano())
}

// markResponded records that u responded, ending any cooldown.
func (u *upstreamState) markResponded() {
	if u.failedUntil.Load() != 0 {
		u.failedUntil.Store(0)
	}
}

// forgetAfter is how long the registry keeps the counters of an upstream
// that left the table, so that a late drain still finds its requests.
const forgetAfter = 10 * time.Minute

// registry holds the state of every upstream by ID, and the counters of
// every environment by name.
type registry struct {
	mu      sync.Mutex
	states  map[string]*upstreamState
	envs    map[string]*envStats
	newPool func(addr string) *connPool
}

func newRegistry(newPool func(addr string) *connPool) *registry {
	return &registry{states: map[string]*upstreamState{}, envs: map[string]*envStats{}, newPool: newPool}
}

// get returns the state of upstream id at addr, creating it, and marks it
// as in the table being built. An upstream that moved gets a new pool.
func (r *registry) get(id, addr string) *upstreamState {
	r.mu.Lock()
	defer r.mu.Unlock()
	u, ok := r.states[id]
	if !ok {
		u = &upstreamState{id: id}
		r.states[id] = u
	}
	if u.pool == nil || u.pool.addr != addr {
		if u.pool != nil {
			u.pool.close()
		}
		u.pool = r.newPool(addr)
	}
	u.lastInTable = time.Now()
	return u
}

// envStats returns the counters of environment env, creating them, and
// marks them as in the table being built.
func (r *registry) envStats(env string) *envStats {
	r.mu.Lock()
	defer r.mu.Unlock()
	s, ok := r.envs[env]
	if !ok {
		s = &envStats{env: env}
		r.envs[env] = s
	}
	s.lastInTable = time.Now()
	return s
}

// lookup returns the state of upstream id, or nil if it is not known.
func (r *registry) lookup(id string) *upstreamState {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.states[id]
}

// forget drops the state of upstreams (and environments) that left the
// table long ago and have nothing in flight, closing their connections.
// Those in the current table were marked by get when it was compiled.
func (r *registry) forget(now time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for id, u := range r.states {
		if now.Sub(u.lastInTable) > forgetAfter && u.inflight.Load() == 0 {
			u.pool.close()
			delete(r.states, id)
		}
	}
	for name, s := range r.envs {
		if now.Sub(s.lastInTable) > forgetAfter && s.inflight.Load() == 0 {
			delete(r.envs, name)
		}
	}
}

// closeIdle closes the upstream connections idle since before cutoff.
func (r *registry) closeIdle(cutoff time.Time) {
	r.mu.Lock()
	pools := make([]*connPool, 0, len(r.states))
	for _, u := range r.states {
		pools = append(pools, u.pool)
	}
	r.mu.Unlock()
	for _, p := range pools {
		p.closeIdle(cutoff)
	}
}

// snapshot returns the states and environment counters, for the metrics.
func (r *registry) snapshot() ([]*upstreamState, []*envStats) {
	r.mu.Lock()
	defer r.mu.Unlock()
	ups := make([]*upstreamState, 0, len(r.states))
	for _, u := range r.states {
		ups = append(ups, u)
	}
	envs := make([]*envStats, 0, len(r.envs))
	for _, e := range r.envs {
		envs = append(envs, e)
	}
	return ups, envs
}

// pick returns the target of r with the fewest requests in flight, skipping
// those in exclude and, while others are left, those cooling down after a
// failed connection; ties go round-robin. It returns nil when none is left.
func (r *route) pick(exclude []*upstreamState) *target {
	n := len(r.targets)
	if n == 0 {
		return nil
	}
	start := int(r.next.Add(1) % uint32(n))
	var best *target
	bestLoad, bestFailing := int64(math.MaxInt64), true
	var now int64 // read from the clock only if some upstream failed
	for i := range n {
		t := &r.targets[(start+i)%n]
		if excluded(t.state, exclude) {
			continue
		}
		failing := false
		if until := t.state.failedUntil.Load(); until != 0 {
			if now == 0 {
				now = time.Now().UnixNano()
			}
			failing = now < until
		}
		load := t.state.inflight.Load()
		if (bestFailing && !failing) || (failing == bestFailing && load < bestLoad) {
			best, bestLoad, bestFailing = t, load, failing
		}
	}
	return best
}

func excluded(u *upstreamState, exclude []*upstreamState) bool {
	for _, e := range exclude {
		if e == u {
			return true
		}
	}
	return false
}
