package router

import (
	"context"
	"io"
	"net/http"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jack-paas/jack"
)

// latencyBounds are the upper bounds, in seconds, of the latency histogram,
// those of the Prometheus client's default buckets.
var latencyBounds = []float64{0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10}

// traffic counts what the router answers, per environment and per
// upstream, for the metrics collector (GET /traffic on the control
// socket). It wraps the Proxy as the HTTP server's handler.
type traffic struct {
	proxy   *Proxy
	started time.Time

	mu   sync.Mutex
	envs map[string]*envTraffic
}

type envTraffic struct {
	total     counts
	instances map[string]*counts
	inFlight  atomic.Int64
}

// counts are the counters of an environment or an upstream. Guarded by
// traffic.mu.
type counts struct {
	requests map[string]uint64
	buckets  []uint64 // per bound, not cumulative
	count    uint64
	sum      float64
	bytesIn  uint64
	bytesOut uint64
}

func newTraffic(p *Proxy) *traffic {
	return &traffic{proxy: p, started: time.Now().UTC(), envs: map[string]*envTraffic{}}
}

// trafficKey finds a request's record in its context, where rewrite notes
// the upstream each attempt goes to.
type trafficKey struct{}

// record is one request being counted.
type record struct {
	http.ResponseWriter
	status   int
	bytesOut uint64
	upstream atomic.Pointer[string]
}

func (r *record) WriteHeader(code int) {
	if r.status == 0 && code >= 200 || code == http.StatusSwitchingProtocols {
		r.status = code
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *record) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	n, err := r.ResponseWriter.Write(b)
	r.bytesOut += uint64(n)
	return n, err
}

// Unwrap lets http.ResponseController reach the connection (flush,
// hijack for upgrades).
func (r *record) Unwrap() http.ResponseWriter { return r.ResponseWriter }

// Flush passes flushes on for streaming answers.
func (r *record) Flush() { http.NewResponseController(r.ResponseWriter).Flush() }

// countingBody counts the bytes of a request body as the proxy reads it.
type countingBody struct {
	io.ReadCloser
	n atomic.Uint64
}

func (c *countingBody) Read(p []byte) (int, error) {
	n, err := c.ReadCloser.Read(p)
	c.n.Add(uint64(n))
	return n, err
}

// ServeHTTP serves the request with the proxy and counts it under the
// environment its host names and the upstream that answered.
func (t *traffic) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	began := time.Now()
	env := ""
	if rt := t.proxy.table.Load().lookup(canonicalHost(r.Host)); rt != nil {
		env = rt.env
	}
	var et *envTraffic
	if env != "" {
		et = t.env(env)
		et.inFlight.Add(1)
		defer et.inFlight.Add(-1)
	}
	rec := &record{ResponseWriter: w}
	var body *countingBody
	if r.Body != nil && r.Body != http.NoBody {
		body = &countingBody{ReadCloser: r.Body}
		r.Body = body
	}
	t.proxy.ServeHTTP(rec, r.WithContext(context.WithValue(r.Context(), trafficKey{}, rec)))
	if et == nil {
		return
	}
	status := rec.status
	if status == 0 {
		status = http.StatusOK
	}
	var in uint64
	if body != nil {
		in = body.n.Load()
	}
	elapsed := time.Since(began).Seconds()
	upstream := ""
	if u := rec.upstream.Load(); u != nil {
		upstream = *u
	}
	t.mu.Lock()
	et.total.add(status, elapsed, in, rec.bytesOut)
	if upstream != "" {
		c := et.instances[upstream]
		if c == nil {
			c = &counts{}
			et.instances[upstream] = c
		}
		c.add(status, elapsed, in, rec.bytesOut)
	}
	t.mu.Unlock()
}

// noteUpstream records the upstream a request's attempt goes to; the last
// attempt's is the one that answered.
func noteUpstream(ctx context.Context, f *flight) {
	if rec, ok := ctx.Value(trafficKey{}).(*record); ok && f != nil && f.target != nil {
		id := f.target.state.id
		rec.upstream.Store(&id)
	}
}

func (t *traffic) env(name string) *envTraffic {
	t.mu.Lock()
	defer t.mu.Unlock()
	et := t.envs[name]
	if et == nil {
		et = &envTraffic{instances: map[string]*counts{}}
		t.envs[name] = et
	}
	return et
}

func (c *counts) add(status int, seconds float64, in, out uint64) {
	if c.requests == nil {
		c.requests = map[string]uint64{}
		c.buckets = make([]uint64, len(latencyBounds))
	}
	class := "other"
	if status >= 100 && status < 600 {
		class = string(rune('0'+status/100)) + "xx"
	}
	c.requests[class]++
	for i, b := range latencyBounds {
		if seconds <= b {
			c.buckets[i]++
			break
		}
	}
	c.count++
	c.sum += seconds
	c.bytesIn += in
	c.bytesOut += out
}

// stats returns the counters as the contract has them: buckets cumulative.
func (c *counts) stats() jack.TrafficStats {
	s := jack.TrafficStats{Requests: map[string]uint64{}, Buckets: make([]uint64, len(latencyBounds)),
		Count: c.count, Sum: c.sum, BytesIn: c.bytesIn, BytesOut: c.bytesOut}
	for k, v := range c.requests {
		s.Requests[k] = v
	}
	var cum uint64
	for i := range latencyBounds {
		if i < len(c.buckets) {
			cum += c.buckets[i]
		}
		s.Buckets[i] = cum
	}
	return s
}

// snapshot returns every environment's counters.
func (t *traffic) snapshot() *jack.TrafficSnapshot {
	snap := &jack.TrafficSnapshot{Time: time.Now().UTC(), StartedAt: t.started, Bounds: latencyBounds}
	t.mu.Lock()
	names := make([]string, 0, len(t.envs))
	for name := range t.envs {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		et := t.envs[name]
		e := &jack.EnvTraffic{Env: name, Total: et.total.stats(), Instances: map[string]jack.TrafficStats{}}
		e.Total.InFlight = et.inFlight.Load()
		for id, c := range et.instances {
			s := c.stats()
			s.InFlight = int64(t.proxy.InFlight(id))
			e.Instances[id] = s
		}
		snap.Envs = append(snap.Envs, e)
	}
	t.mu.Unlock()
	return snap
}

// getTraffic answers GET /traffic on the control socket.
func (c *controlAPI) getTraffic(w http.ResponseWriter, r *http.Request) {
	if c.traffic == nil {
		writeError(w, jack.Errorf(jack.EUNAVAILABLE, "this router counts no traffic"))
		return
	}
	writeJSON(w, http.StatusOK, c.traffic.snapshot())
}
