package metrics

import (
	"strings"
	"testing"
	"time"

	jack "github.com/jack-paas/jack"
)

func webEnv() *jack.Environment {
	return &jack.Environment{ID: 1, App: "notes", Name: "production", Tier: jack.TierWeb, Release: 3}
}

func inst(name, state string) *jack.Instance {
	p, _, _ := strings.Cut(name, ".")
	return &jack.Instance{ID: "id-" + name, Name: name, Process: p, State: state}
}

func trafficOf(requests, errors uint64, p95 float64) *window {
	return &window{total: trafficDelta{requests: requests, errors: errors, p95: p95}, byInstance: map[string]trafficDelta{}}
}

// Each rule of docs/health.md gives its state and says why in words.
func TestEvaluateRules(t *testing.T) {
	three := map[string]int{"web": 3}
	healthy3 := []*jack.Instance{inst("web.1", "healthy"), inst("web.2", "healthy"), inst("web.3", "healthy")}
	cases := []struct {
		name      string
		in        envInput
		state     string
		causeHas  string
		noCauses  bool
		configure func(*envInput)
	}{
		{name: "all good", in: envInput{expected: three, instances: healthy3, traffic: trafficOf(1000, 5, 0.1)}, state: "ok", noCauses: true},
		{name: "nothing deployed", in: envInput{}, state: "unknown", causeHas: "nothing deployed yet",
			configure: func(in *envInput) { in.env.Release = 0 }},
		{name: "no sample yet", in: envInput{expected: three, instances: healthy3}, state: "unknown", causeHas: "no data yet",
			configure: func(in *envInput) { in.sampled = false }},
		{name: "one failing check", in: envInput{expected: three, instances: []*jack.Instance{
			{ID: "a", Name: "web.1", Process: "web", State: "unhealthy", LastCheckError: "GET /health answered 500"},
			inst("web.2", "healthy"), inst("web.3", "healthy")}},
			state: "warning", causeHas: "1 of 3 web instances failing health checks (GET /health answered 500)"},
		{name: "most failing checks", in: envInput{expected: three, instances: []*jack.Instance{
			inst("web.1", "unhealthy"), inst("web.2", "unhealthy"), inst("web.3", "healthy")}},
			state: "degraded", causeHas: "2 of 3 web instances failing health checks"},
		{name: "no web instance healthy", in: envInput{expected: three, instances: []*jack.Instance{
			inst("web.1", "unhealthy"), inst("web.2", "exited")}},
			state: "severe", causeHas: "no web instance is healthy (0 of 3)"},
		{name: "instance missing", in: envInput{expected: three, instances: healthy3[:2]},
			state: "warning", causeHas: "1 of 3 web instances not running"},
		{name: "restarted once", in: envInput{expected: three, instances: []*jack.Instance{
			{ID: "a", Name: "web.1", Process: "web", State: "healthy", RecentRestarts: 1, LastExit: "exited with code 3"},
			inst("web.2", "healthy"), inst("web.3", "healthy")}},
			state: "warning", causeHas: "web.1 restarted once in the last 10 minutes; the last one exited with code 3"},
		{name: "crash loop", in: envInput{expected: three, instances: []*jack.Instance{
			{ID: "a", Name: "web.1", Process: "web", State: "starting", RecentRestarts: 4},
			inst("web.2", "healthy"), inst("web.3", "healthy")}},
			state: "degraded", causeHas: "web.1 restarted 4 times in the last 10 minutes (crash loop)"},
		{name: "5xx warning", in: envInput{expected: three, instances: healthy3, traffic: trafficOf(500, 31, 0.1)},
			state: "warning", causeHas: "6.2% of requests in the last minute answered 5xx (31 of 500)"},
		{name: "5xx degraded", in: envInput{expected: three, instances: healthy3, traffic: trafficOf(100, 10, 0.1)},
			state: "degraded", causeHas: "10% of requests"},
		{name: "5xx severe", in: envInput{expected: three, instances: healthy3, traffic: trafficOf(100, 25, 0.1)},
			state: "severe", causeHas: "25% of requests"},
		{name: "5xx under 1%", in: envInput{expected: three, instances: healthy3, traffic: trafficOf(1000, 9, 0.1)}, state: "ok"},
		{name: "slow", in: envInput{expected: three, instances: healthy3, traffic: trafficOf(100, 0, 2.5)},
			state: "warning", causeHas: "p95 latency 2.5s over the last minute, above 2s"},
		{name: "very slow", in: envInput{expected: three, instances: healthy3, traffic: trafficOf(100, 0, 4.5)}, state: "degraded"},
		{name: "memory near limit", in: envInput{expected: three, instances: healthy3, samples: map[string]*sample{
			"id-web.2": {stats: &jack.ContainerStats{MemoryWorkingSet: 60 << 20, MemoryLimit: 64 << 20}}}},
			state: "warning", causeHas: "web.2 uses 94% of its 64 MiB memory limit"},
		{name: "cpu near limit", in: envInput{expected: three, instances: healthy3, samples: map[string]*sample{
			"id-web.3": {stats: &jack.ContainerStats{CPULimit: 0.5}, cpuPercent: 48, hasRate: true}}},
			state: "warning", causeHas: "web.3 uses 96% of its 0.5 CPU limit"},
		{name: "deploying", in: envInput{expected: three, instances: healthy3[:1],
			deploying: &jack.Deployment{ID: 7, Kind: "deploy", ReleaseNumber: 4}},
			state: "pending", causeHas: "deployment 7 (deploy of release 4) is running"},
		{name: "worker env without checks", in: envInput{expected: map[string]int{"worker": 1}, instances: []*jack.Instance{inst("worker.1", "healthy")}},
			state: "ok", configure: func(in *envInput) { in.env.Tier = jack.TierWorker }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			in := tc.in
			in.env, in.sampled, in.limits = webEnv(), true, DefaultThresholds
			if in.samples == nil {
				in.samples = map[string]*sample{}
			}
			if tc.configure != nil {
				tc.configure(&in)
			}
			h := evaluate(&in, time.Now())
			if h.State != tc.state {
				t.Errorf("state %q; want %q (causes %q)", h.State, tc.state, h.Causes)
			}
			joined := strings.Join(h.Causes, " | ")
			if tc.causeHas != "" && !strings.Contains(joined, tc.causeHas) {
				t.Errorf("causes %q; want one with %q", joined, tc.causeHas)
			}
			if tc.noCauses && len(h.Causes) != 0 {
				t.Errorf("causes %q; want none", joined)
			}
		})
	}
}

func TestQuantileInterpolatesLikePrometheus(t *testing.T) {
	bounds := []float64{0.1, 0.5, 1}
	// 100 requests: 50 under 100ms, 40 more under 500ms, 10 more under 1s.
	if got := quantile(0.95, bounds, []uint64{50, 90, 100}, 100); got < 0.74 || got > 0.76 {
		t.Errorf("p95 = %v; want 0.75 (halfway into the last bucket)", got)
	}
	if got := quantile(0.95, bounds, []uint64{0, 0, 0}, 10); got != 1 {
		t.Errorf("p95 past every bound = %v; want the highest bound", got)
	}
	if got := quantile(0.95, bounds, nil, 0); got != 0 {
		t.Errorf("p95 without requests = %v", got)
	}
}

func TestHistoryWindowsSubtractTheMinuteAgoSnapshot(t *testing.T) {
	start := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	snap := func(at time.Duration, started time.Time, ok, errs uint64) *jack.TrafficSnapshot {
		return &jack.TrafficSnapshot{Time: start.Add(at), StartedAt: started, Bounds: []float64{1}, Envs: []*jack.EnvTraffic{{
			Env:   "notes/production",
			Total: jack.TrafficStats{Requests: map[string]uint64{"2xx": ok, "5xx": errs}, Buckets: []uint64{ok + errs}, Count: ok + errs},
		}}}
	}
	var h history
	for i := 0; i <= 12; i++ { // every 10s for 2 minutes: +100 ok and +10 errors each
		h.add(snap(time.Duration(i)*10*time.Second, start, uint64(100*i), uint64(10*i)))
	}
	w := h.windows()["notes/production"]
	if w.total.requests != 660 || w.total.errors != 60 || w.span != time.Minute {
		t.Fatalf("last minute: %d requests, %d errors over %s; want 660, 60, 1m", w.total.requests, w.total.errors, w.span)
	}
	// The router restarted: its counters began again.
	later := start.Add(3 * time.Minute)
	h.add(snap(3*time.Minute, later, 5, 5))
	w = h.windows()["notes/production"]
	if w.total.requests != 10 || w.total.errors != 5 {
		t.Fatalf("after a router restart: %d requests, %d errors; want the new counters, 10 and 5", w.total.requests, w.total.errors)
	}
}

func TestParseThresholds(t *testing.T) {
	if v, err := ParsePercent("--health-memory", "85%"); err != nil || v != 0.85 {
		t.Errorf("85%%: %v %v", v, err)
	}
	for _, bad := range []string{"abc", "0", "150", ""} {
		if _, err := ParsePercent("--health-memory", bad); jack.ErrorCode(err) != jack.EINVALID || !strings.Contains(err.Error(), "--health-memory") {
			t.Errorf("%q: %v; want EINVALID naming the flag", bad, err)
		}
	}
	if d, err := ParseLatency("--health-p95", "750ms"); err != nil || d != 750*time.Millisecond {
		t.Errorf("750ms: %v %v", d, err)
	}
	if _, err := ParseLatency("--health-p95", "500"); err == nil || !strings.Contains(err.Error(), "500ms") {
		t.Errorf("500 without a unit: %v; want a hint", err)
	}
	if _, err := ParseLatency("--health-p95", "fast"); jack.ErrorCode(err) != jack.EINVALID {
		t.Errorf("fast: %v", err)
	}
}
