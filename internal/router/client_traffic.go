package router

import (
	"context"
	"net/http"

	"github.com/jack-paas/jack"
)

var _ jack.RouterStats = (*Client)(nil)

// Traffic returns the router's counters of requests per environment and
// per instance since it started, in the metrics collector's terms: the
// router's own GET /metrics, with the start time of its counters.
func (c *Client) Traffic(ctx context.Context) (*jack.TrafficSnapshot, error) {
	var m Metrics
	if err := c.call(ctx, http.MethodGet, "/metrics", nil, &m); err != nil {
		return nil, err
	}
	st, err := c.Status(ctx)
	if err != nil {
		return nil, err
	}
	return trafficSnapshot(m, st), nil
}

// trafficSnapshot converts the router's counters: the latency histogram's
// last bound (+Inf) becomes Count, the others the snapshot's bounds.
func trafficSnapshot(m Metrics, st Status) *jack.TrafficSnapshot {
	snap := &jack.TrafficSnapshot{Time: m.Time, StartedAt: st.StartedAt, Envs: []*jack.EnvTraffic{}}
	for _, e := range m.Envs {
		if snap.Bounds == nil && len(e.LatencyBuckets) > 0 {
			snap.Bounds = e.LatencyBuckets[:len(e.LatencyBuckets)-1]
		}
		et := &jack.EnvTraffic{Env: e.Env, Total: trafficStats(e.CounterSnapshot, e.InFlight), Instances: map[string]jack.TrafficStats{}}
		for _, in := range e.Instances {
			et.Instances[in.ID] = trafficStats(in.CounterSnapshot, in.InFlight)
		}
		snap.Envs = append(snap.Envs, et)
	}
	if snap.Bounds == nil {
		for _, b := range latencyBuckets {
			snap.Bounds = append(snap.Bounds, b.Seconds())
		}
	}
	return snap
}

func trafficStats(c CounterSnapshot, inFlight int64) jack.TrafficStats {
	s := jack.TrafficStats{Requests: map[string]uint64{}, BytesOut: uint64(c.Bytes), Sum: c.LatencySum, InFlight: inFlight}
	for class, n := range c.Requests {
		if n > 0 {
			s.Requests[class] = uint64(n)
		}
	}
	if n := len(c.LatencyCounts); n > 0 {
		for _, v := range c.LatencyCounts[:n-1] {
			s.Buckets = append(s.Buckets, uint64(v))
		}
		s.Count = uint64(c.LatencyCounts[n-1])
	}
	return s
}
