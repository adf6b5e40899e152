package metrics

import (
	"time"

	jack "github.com/jack-paas/jack"
)

// windowLength is how far back health looks at traffic.
const windowLength = time.Minute

// trafficDelta is what the router counted between two snapshots.
type trafficDelta struct {
	requests, errors uint64
	byClass          map[string]uint64
	buckets          []uint64 // cumulative, as in the snapshot
	count            uint64
	sum              float64
	bytesIn          uint64
	bytesOut         uint64
	p95              float64 // seconds; 0 without requests
}

func (d trafficDelta) errorShare() float64 {
	if d.requests == 0 {
		return 0
	}
	return float64(d.errors) / float64(d.requests)
}

// window is the traffic of one environment over the last minute (or what
// there is of it since the router's counters started).
type window struct {
	total      trafficDelta
	byInstance map[string]trafficDelta // by container ID
	span       time.Duration
}

// history keeps the router snapshots of the last minute and a bit, to
// subtract the oldest from the newest.
type history struct {
	snaps []*jack.TrafficSnapshot
}

// add records a snapshot; one whose counters started again (a restarted
// router) drops the older ones, which can't be subtracted from it.
func (h *history) add(s *jack.TrafficSnapshot) {
	if n := len(h.snaps); n > 0 && !h.snaps[n-1].StartedAt.Equal(s.StartedAt) {
		h.snaps = nil
	}
	h.snaps = append(h.snaps, s)
	// Keep the newest snapshot at least windowLength old, and all after.
	for len(h.snaps) > 2 && s.Time.Sub(h.snaps[1].Time) >= windowLength {
		h.snaps = h.snaps[1:]
	}
}

// latest returns the newest snapshot, or nil.
func (h *history) latest() *jack.TrafficSnapshot {
	if len(h.snaps) == 0 {
		return nil
	}
	return h.snaps[len(h.snaps)-1]
}

// windows returns each environment's traffic over the last minute. With
// one snapshot only, the counts since the router started stand in.
func (h *history) windows() map[string]*window {
	if len(h.snaps) == 0 {
		return nil
	}
	newest := h.snaps[len(h.snaps)-1]
	var oldest *jack.TrafficSnapshot
	if len(h.snaps) > 1 {
		oldest = h.snaps[0]
	}
	return between(oldest, newest)
}

// between returns, per environment, what was counted from a to b (from
// the router's start when a is nil).
func between(a, b *jack.TrafficSnapshot) map[string]*window {
	before := map[string]*jack.EnvTraffic{}
	since := b.StartedAt
	if a != nil {
		for _, e := range a.Envs {
			before[e.Env] = e
		}
		since = a.Time
	}
	out := map[string]*window{}
	for _, e := range b.Envs {
		w := &window{byInstance: map[string]trafficDelta{}, span: b.Time.Sub(since)}
		prev := before[e.Env]
		var prevTotal *jack.TrafficStats
		if prev != nil {
			prevTotal = &prev.Total
		}
		w.total = delta(b.Bounds, prevTotal, &e.Total)
		for id, st := range e.Instances {
			var p *jack.TrafficStats
			if prev != nil {
				if ps, ok := prev.Instances[id]; ok {
					p = &ps
				}
			}
			w.byInstance[id] = delta(b.Bounds, p, &st)
		}
		out[e.Env] = w
	}
	return out
}

// delta subtracts counters a (nil: zero) from b.
func delta(bounds []float64, a, b *jack.TrafficStats) trafficDelta {
	d := trafficDelta{byClass: map[string]uint64{}, buckets: make([]uint64, len(b.Buckets))}
	var zero jack.TrafficStats
	if a == nil {
		a = &zero
	}
	for class, n := range b.Requests {
		v := sub(n, a.Requests[class])
		d.byClass[class] = v
		d.requests += v
		if class == "5xx" {
			d.errors += v
		}
	}
	for i := range b.Buckets {
		var prev uint64
		if i < len(a.Buckets) {
			prev = a.Buckets[i]
		}
		d.buckets[i] = sub(b.Buckets[i], prev)
	}
	d.count = sub(b.Count, a.Count)
	d.sum = max(b.Sum-a.Sum, 0)
	d.bytesIn, d.bytesOut = sub(b.BytesIn, a.BytesIn), sub(b.BytesOut, a.BytesOut)
	d.p95 = quantile(0.95, bounds, d.buckets, d.count)
	return d
}

func sub(b, a uint64) uint64 {
	if b < a {
		return 0
	}
	return b - a
}

// quantile estimates the q-quantile from cumulative bucket counts as
// Prometheus's histogram_quantile does: linearly within the bucket it
// falls in; the highest bound when it falls past every bound.
func quantile(q float64, bounds []float64, buckets []uint64, count uint64) float64 {
	if count == 0 || len(bounds) == 0 || len(buckets) < len(bounds) {
		return 0
	}
	rank := q * float64(count)
	lowerBound, lowerCount := 0.0, 0.0
	for i, bound := range bounds {
		c := float64(buckets[i])
		if c >= rank {
			if c == lowerCount {
				return bound
			}
			return lowerBound + (bound-lowerBound)*(rank-lowerCount)/(c-lowerCount)
		}
		lowerBound, lowerCount = bound, c
	}
	return bounds[len(bounds)-1]
}
