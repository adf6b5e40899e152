package router

import (
	"sort"
	"sync/atomic"
	"time"
)

// latencyBuckets are the upper bounds of the latency histogram, in the
// style of Prometheus' http request duration buckets.
var latencyBuckets = []time.Duration{
	time.Millisecond, 2500 * time.Microsecond, 5 * time.Millisecond, 10 * time.Millisecond,
	25 * time.Millisecond, 50 * time.Millisecond, 100 * time.Millisecond, 250 * time.Millisecond,
	500 * time.Millisecond, time.Second, 2500 * time.Millisecond, 5 * time.Second, 10 * time.Second,
}

// counters count the responses of an environment or an upstream: by status
// class, bytes sent, and a latency histogram. They are atomics, added to on
// the request path without a lock.
type counters struct {
	requests   [6]atomic.Int64 // index by status/100; 0 holds anything else
	bytes      atomic.Int64
	latency    [14]atomic.Int64 // len(latencyBuckets)+1, the last for longer
	latencySum atomic.Int64     // nanoseconds
}

func (c *counters) count(status int, bytes int64, elapsed time.Duration) {
	class := status / 100
	if class < 1 || class > 5 {
		class = 0
	}
	c.requests[class].Add(1)
	c.bytes.Add(bytes)
	i := 0
	for i < len(latencyBuckets) && elapsed > latencyBuckets[i] {
		i++
	}
	c.latency[i].Add(1)
	c.latencySum.Add(int64(elapsed))
}

// envStats are the counters of one environment, and its requests in
// flight (static files included).
type envStats struct {
	env string
	counters
	inflight    atomic.Int64
	lastInTable time.Time // guarded by the registry's lock
}

// metrics counts every request, including those for no known host.
type metrics struct {
	unrouted counters // responses for hosts not in the table
}

func newMetrics() *metrics { return &metrics{} }

// observe counts one request responded to.
func (m *metrics) observe(r *route, up *upstreamState, status int, bytes int64, elapsed time.Duration) {
	if r == nil {
		m.unrouted.count(status, bytes, elapsed)
		return
	}
	r.stats.count(status, bytes, elapsed)
	if up != nil {
		up.count(status, bytes, elapsed)
	}
}

// Metrics is what GET /metrics on the control socket responds: the
// router's counters since it started, for the metrics collector.
type Metrics struct {
	Time      time.Time         `json:"time"`
	Envs      []EnvMetrics      `json:"envs"`
	Unrouted  CounterSnapshot   `json:"unrouted"` // responses for unknown hosts
	AccessLog AccessLogCounters `json:"access_log"`
}

// EnvMetrics are one environment's counters and its instances'.
type EnvMetrics struct {
	Env      string `json:"env"`
	InFlight int64  `json:"in_flight"`
	CounterSnapshot
	Instances []InstanceMetrics `json:"instances"`
}

// InstanceMetrics are one upstream instance's counters.
type InstanceMetrics struct {
	ID       string `json:"id"`
	InFlight int64  `json:"in_flight"`
	CounterSnapshot
}

// CounterSnapshot is a reading of counters.
type CounterSnapshot struct {
	// Requests counts responses by status class: "1xx" … "5xx", and "other"
	// (499: the client left first).
	Requests map[string]int64 `json:"requests"`
	Bytes    int64            `json:"bytes"`
	// Latency is a cumulative histogram: LatencyBuckets[i] (seconds) holds
	// how many responses took at most that long; the last bound is +Inf.
	LatencyBuckets []float64 `json:"latency_buckets"`
	LatencyCounts  []int64   `json:"latency_counts"`
	LatencySum     float64   `json:"latency_sum"` // seconds
}

// AccessLogCounters say how the access log keeps up.
type AccessLogCounters struct {
	Written int64 `json:"written"`
	Dropped int64 `json:"dropped"` // records lost because the writer fell behind
}

var classNames = [6]string{"other", "1xx", "2xx", "3xx", "4xx", "5xx"}

func (c *counters) snapshot() CounterSnapshot {
	s := CounterSnapshot{Requests: map[string]int64{}, Bytes: c.bytes.Load(), LatencySum: time.Duration(c.latencySum.Load()).Seconds()}
	for i := range c.requests {
		s.Requests[classNames[i]] = c.requests[i].Load()
	}
	var cumulative int64
	for i := range c.latency {
		cumulative += c.latency[i].Load()
		bound := -1.0 // +Inf, as JSON has no infinity
		if i < len(latencyBuckets) {
			bound = latencyBuckets[i].Seconds()
		}
		s.LatencyBuckets = append(s.LatencyBuckets, bound)
		s.LatencyCounts = append(s.LatencyCounts, cumulative)
	}
	return s
}

// Metrics returns the counters of every environment and upstream the
// router knows.
func (p *Proxy) Metrics() Metrics {
	out := Metrics{Time: time.Now().UTC(), Unrouted: p.metrics.unrouted.snapshot(), Envs: []EnvMetrics{}}
	if p.access != nil {
		out.AccessLog = p.access.counters()
	}
	ups, envs := p.registry.snapshot()
	byEnv := map[string][]InstanceMetrics{}
	envOf := map[*upstreamState]string{}
	for _, r := range p.table.Load().routes() {
		for _, t := range r.targets {
			envOf[t.state] = r.env
		}
	}
	for _, u := range ups {
		env := envOf[u]
		byEnv[env] = append(byEnv[env], InstanceMetrics{ID: u.id, InFlight: u.inflight.Load(), CounterSnapshot: u.snapshot()})
	}
	for _, e := range envs {
		instances := byEnv[e.env]
		if instances == nil {
			instances = []InstanceMetrics{}
		}
		sort.Slice(instances, func(i, j int) bool { return instances[i].ID < instances[j].ID })
		out.Envs = append(out.Envs, EnvMetrics{Env: e.env, InFlight: e.inflight.Load(), CounterSnapshot: e.snapshot(), Instances: instances})
	}
	sort.Slice(out.Envs, func(i, j int) bool { return out.Envs[i].Env < out.Envs[j].Env })
	return out
}
