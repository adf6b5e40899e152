package router

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/jack-paas/jack"
)

// The router counts answers per environment and per upstream by status
// class, with latency, bytes and what it answered itself (no upstream).
func TestTrafficCountsPerEnvironmentAndUpstream(t *testing.T) {
	ok := newBackend(t, "ok")
	failing := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "boom", http.StatusInternalServerError)
	}))
	defer failing.Close()
	p := NewProxy(nil)
	counted := newTraffic(p)
	srv := httptest.NewServer(counted)
	t.Cleanup(func() { srv.Close(); p.Close() })
	setRoutes(t, p, 1,
		newRoute("notes/production", []string{"notes.test"}, ok.upstream("u-ok")),
		newRoute("notes/staging", []string{"staging.test"}, jack.Upstream{ID: "u-fail", Addr: failing.Listener.Addr().String()}),
		newRoute("notes/empty", []string{"empty.test"}),
	)
	client := srv.Client()
	for range 3 {
		get(t, client, srv.URL, "notes.test")
	}
	get(t, client, srv.URL, "staging.test")
	if code, _ := get(t, client, srv.URL, "empty.test"); code != 503 {
		t.Fatalf("route without upstream answered %d", code)
	}
	req, _ := http.NewRequest(http.MethodPost, srv.URL+"/", strings.NewReader("hello"))
	req.Host = "notes.test"
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()

	// A request is counted when its handler returns, which may be just
	// after the client has read the answer.
	var byEnv map[string]*jack.EnvTraffic
	snap := counted.snapshot()
	deadline := time.Now().Add(5 * time.Second)
	for {
		byEnv = map[string]*jack.EnvTraffic{}
		snap = counted.snapshot()
		for _, e := range snap.Envs {
			byEnv[e.Env] = e
		}
		if p := byEnv["notes/production"]; (p != nil && p.Total.Count == 4) || time.Now().After(deadline) {
			break
		}
		time.Sleep(time.Millisecond)
	}
	prod := byEnv["notes/production"]
	if prod == nil || prod.Total.Requests["2xx"] != 4 || prod.Total.Count != 4 || prod.Total.BytesIn != 5 || prod.Total.BytesOut == 0 {
		t.Fatalf("production: %+v", prod)
	}
	if up := prod.Instances["u-ok"]; up.Requests["2xx"] != 4 || up.Buckets[len(up.Buckets)-1] != 4 {
		t.Errorf("upstream u-ok: %+v; want 4 answers, all in the last cumulative bucket", up)
	}
	if st := byEnv["notes/staging"]; st == nil || st.Total.Requests["5xx"] != 1 || st.Instances["u-fail"].Requests["5xx"] != 1 {
		t.Errorf("staging: %+v", st)
	}
	if e := byEnv["notes/empty"]; e == nil || e.Total.Requests["5xx"] != 1 || len(e.Instances) != 0 {
		t.Errorf("router's own 503: %+v", e)
	}
	if len(snap.Bounds) != len(prod.Total.Buckets) || snap.StartedAt.IsZero() {
		t.Errorf("bounds %v, started %v", snap.Bounds, snap.StartedAt)
	}
}
