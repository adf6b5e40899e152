package router

import (
	"net/http"
	"testing"
	"time"

	"github.com/jack-paas/jack"
)

// The metrics collector reads the router's counters as a
// jack.TrafficSnapshot: per environment and instance, by status class,
// with a cumulative latency histogram whose total is Count.
func TestTrafficSnapshotCountsPerEnvironmentAndInstance(t *testing.T) {
	p, front := newTestProxy(t)
	ok := newBackend(t, "ok")
	failing := newBackend(t, "fail")
	failing.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "down", http.StatusServiceUnavailable)
	})
	setRoutes(t, p, 1,
		newRoute("notes/production", []string{"notes.test"}, ok.upstream("u-ok")),
		newRoute("notes/staging", []string{"staging.test"}, failing.upstream("u-fail")))
	client := front.Client()
	for range 3 {
		get(t, client, front.URL, "notes.test")
	}
	get(t, client, front.URL, "staging.test")

	var prod, staging *jack.EnvTraffic
	waitFor(t, "every response counted", func() bool {
		started := time.Now()
		snap := trafficSnapshot(p.Metrics(), Status{StartedAt: started})
		prod, staging = nil, nil
		for _, e := range snap.Envs {
			switch e.Env {
			case "notes/production":
				prod = e
			case "notes/staging":
				staging = e
			}
		}
		if snap.StartedAt != started || len(snap.Bounds) == 0 {
			t.Fatalf("snapshot: started %v, bounds %v", snap.StartedAt, snap.Bounds)
		}
		return prod != nil && staging != nil && prod.Total.Count == 3 && staging.Total.Count == 1
	})
	if prod.Total.Requests["2xx"] != 3 || prod.Instances["u-ok"].Requests["2xx"] != 3 || prod.Total.BytesOut == 0 {
		t.Fatalf("production: %+v", prod)
	}
	if last := prod.Total.Buckets[len(prod.Total.Buckets)-1]; last > prod.Total.Count {
		t.Fatalf("cumulative buckets %v exceed the count %d", prod.Total.Buckets, prod.Total.Count)
	}
	if staging.Total.Requests["5xx"] != 1 || staging.Instances["u-fail"].Requests["5xx"] != 1 {
		t.Fatalf("staging: %+v", staging)
	}
}
