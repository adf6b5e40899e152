package metrics

import (
	"bytes"
	"context"
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	jack "github.com/jack-paas/jack"
	"github.com/jack-paas/jack/internal/sqlite"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// fakeOrch answers Instances from a map; the monitor needs nothing else.
type fakeOrch struct {
	jack.Orchestrator
	mu        sync.Mutex
	instances []*jack.Instance
}

func (f *fakeOrch) Instances(ctx context.Context, app, env string) ([]*jack.Instance, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []*jack.Instance
	for _, in := range f.instances {
		cp := *in
		out = append(out, &cp)
	}
	return out, nil
}

// fakeStats gives each instance growing counters; "gone" instances vanish.
type fakeStats struct {
	mu    sync.Mutex
	calls int
	gone  map[string]bool
}

func (f *fakeStats) Stats(ctx context.Context, id string) (*jack.ContainerStats, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls++
	if f.gone[id] {
		return nil, jack.Errorf(jack.ENOTFOUND, "instance %s is gone", id)
	}
	n := float64(f.calls)
	return &jack.ContainerStats{
		Time: time.Now(), CPUSeconds: n, CPULimit: 1,
		MemoryUsage: 40 << 20, MemoryWorkingSet: 30 << 20, MemoryLimit: 64 << 20,
		NetRxBytes: uint64(1000 * f.calls), NetTxBytes: 2000, BlockReadBytes: 4096, BlockWriteBytes: 8192,
	}, nil
}

// fakeRouter counts what a test adds.
type fakeRouter struct {
	mu   sync.Mutex
	snap jack.TrafficSnapshot
}

func (f *fakeRouter) Traffic(ctx context.Context) (*jack.TrafficSnapshot, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	// A deep copy, as the real router's JSON answer is.
	data, _ := json.Marshal(f.snap)
	var cp jack.TrafficSnapshot
	json.Unmarshal(data, &cp)
	cp.Time = time.Now()
	return &cp, nil
}

type fixture struct {
	db     *sqlite.DB
	env    *jack.Environment
	orch   *fakeOrch
	stats  *fakeStats
	router *fakeRouter
	m      *Monitor
}

func newFixture(t *testing.T, statsd *StatsD) *fixture {
	t.Helper()
	ctx := context.Background()
	db, err := sqlite.Open(filepath.Join(t.TempDir(), "jack.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	app := &jack.App{Name: "notes"}
	if err := db.CreateApp(ctx, app); err != nil {
		t.Fatal(err)
	}
	env := &jack.Environment{AppID: app.ID, Name: "production", Tier: jack.TierWeb}
	if err := db.CreateEnv(ctx, env); err != nil {
		t.Fatal(err)
	}
	v := &jack.Version{AppID: app.ID, Label: "v1", Image: "notes:v1", ImageID: "sha256:1",
		Manifest: &jack.Manifest{Processes: map[string]*jack.Process{"web": {Instances: 2}}}}
	if err := db.CreateVersion(ctx, v); err != nil {
		t.Fatal(err)
	}
	rel := &jack.Release{EnvID: env.ID, VersionID: v.ID}
	if err := db.CreateRelease(ctx, rel); err != nil {
		t.Fatal(err)
	}
	env.Release = rel.Number
	if err := db.UpdateEnv(ctx, env); err != nil {
		t.Fatal(err)
	}
	f := &fixture{db: db, env: env, stats: &fakeStats{gone: map[string]bool{}}, router: &fakeRouter{}}
	f.orch = &fakeOrch{instances: []*jack.Instance{
		{ID: "c1", Name: "web.1", Process: "web", State: "healthy", StartedAt: time.Unix(1700000000, 0), RestartsTotal: 1, CheckLatency: 3 * time.Millisecond},
		{ID: "c2", Name: "web.2", Process: "web", State: "healthy", StartedAt: time.Unix(1700000000, 0)},
	}}
	f.router.snap = jack.TrafficSnapshot{StartedAt: time.Unix(1700000000, 0), Bounds: []float64{0.1, 1}, Envs: []*jack.EnvTraffic{{
		Env: "notes/production",
		Total: jack.TrafficStats{Requests: map[string]uint64{"2xx": 90, "5xx": 12}, Buckets: []uint64{80, 100}, Count: 102, Sum: 9,
			BytesIn: 10, BytesOut: 5000, InFlight: 1},
		Instances: map[string]jack.TrafficStats{
			"c1": {Requests: map[string]uint64{"2xx": 50, "5xx": 10}, Buckets: []uint64{50, 60}, Count: 60, Sum: 5, BytesOut: 3000, InFlight: 1},
			"c2": {Requests: map[string]uint64{"2xx": 40}, Buckets: []uint64{30, 40}, Count: 40, Sum: 4, BytesOut: 2000},
		},
	}}}
	f.m = New(Config{Store: db, Orchestrator: f.orch, Stats: f.stats, Router: f.router, StatsD: statsd, Interval: time.Hour})
	return f
}

// /metrics, parsed with Prometheus's own parser, has cAdvisor's names for
// instances and jack_* for the rest, labelled app, env, process, instance.
func TestPrometheusExposition(t *testing.T) {
	f := newFixture(t, nil)
	f.m.Round(context.Background())
	f.router.mu.Lock()
	f.router.snap.Envs[0].Total.Requests = map[string]uint64{"2xx": 190, "5xx": 32} // +100 and +20
	f.router.mu.Unlock()
	f.m.Round(context.Background())
	srv := httptest.NewServer(f.m.Handler())
	defer srv.Close()
	resp, err := http.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(resp.Body)
	if err != nil {
		t.Fatalf("parse /metrics: %v", err)
	}
	inst := map[string]string{"app": "notes", "env": "production", "process": "web", "instance": "web.1"}
	for name, want := range map[string]float64{
		"container_memory_working_set_bytes": 30 << 20,
		"container_spec_memory_limit_bytes":  64 << 20,
		"container_memory_usage_bytes":       40 << 20,
		"container_fs_writes_bytes_total":    8192,
		"container_start_time_seconds":       1700000000,
		"jack_instance_restarts_total":       1,
		"jack_instance_healthy":              1,
		"jack_instance_cpu_limit_cores":      1,
	} {
		if got, ok := value(families, name, inst); !ok || got != want {
			t.Errorf("%s%v = %v (found %v); want %v", name, inst, got, ok, want)
		}
	}
	if got, ok := value(families, "container_cpu_usage_seconds_total", inst); !ok || got <= 0 {
		t.Errorf("container_cpu_usage_seconds_total = %v, %v", got, ok)
	}
	if _, ok := value(families, "jack_instance_cpu_percent", inst); !ok {
		t.Error("no jack_instance_cpu_percent after two rounds")
	}
	web1 := map[string]string{"app": "notes", "env": "production", "instance": "web.1", "code": "5xx"}
	if got, _ := value(families, "jack_http_requests_total", web1); got != 10 {
		t.Errorf("web.1 5xx = %v; want 10", got)
	}
	router := map[string]string{"app": "notes", "env": "production", "instance": "", "code": "5xx"}
	if got, _ := value(families, "jack_http_requests_total", router); got != 22 {
		t.Errorf("5xx the router answered itself = %v; want 22 (32 in total less 10 from web.1)", got)
	}
	h := find(families, "jack_http_request_duration_seconds", map[string]string{"instance": "web.2"})
	if h == nil || h.GetHistogram().GetSampleCount() != 40 || len(h.GetHistogram().GetBucket()) != 3 {
		t.Errorf("web.2 latency histogram = %v", h)
	}
	if got, _ := value(families, "jack_environment_health", map[string]string{"state": "severe"}); got != 0 {
		t.Errorf("severe = %v", got)
	}
	// 20 of 120 requests in the last minute answered 5xx: 16.7%, degraded.
	if got, _ := value(families, "jack_environment_health", map[string]string{"state": "degraded"}); got != 1 {
		t.Errorf("jack_environment_health{state=degraded} = %v; want 1", got)
	}
}

// A container that vanishes mid-round is skipped; the others are sampled.
func TestRoundSkipsAVanishedContainer(t *testing.T) {
	f := newFixture(t, nil)
	f.stats.gone["c1"] = true
	f.m.Round(context.Background())
	f.m.mu.Lock()
	_, has1 := f.m.samples["c1"]
	_, has2 := f.m.samples["c2"]
	f.m.mu.Unlock()
	if has1 || !has2 {
		t.Fatalf("samples: c1 %v, c2 %v; want only c2", has1, has2)
	}
}

// Rounds in one minute become one rollup per process and one for the
// environment when the next minute begins.
func TestRollupsAreSavedPerMinute(t *testing.T) {
	f := newFixture(t, nil)
	now := time.Date(2024, 5, 1, 12, 0, 5, 0, time.UTC)
	f.m.now = func() time.Time { return now }
	ctx := context.Background()
	for _, at := range []time.Duration{0, 10 * time.Second, 20 * time.Second, time.Minute} {
		now = time.Date(2024, 5, 1, 12, 0, 5, 0, time.UTC).Add(at)
		f.m.Round(ctx)
	}
	got, err := f.db.ListRollups(ctx, f.env.ID, "*", time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 {
		t.Fatalf("rollups %+v; want the environment's and web's for 12:00", got)
	}
	env := got[0]
	if env.Process != "" || !env.Minute.Equal(time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)) || env.Instances != 2 ||
		env.MemoryAvg != 60<<20 || env.NetRx == 0 {
		t.Errorf("environment rollup %+v", env)
	}
}

// Every round goes to a StatsD receiver on loopback, tagged DogStatsD style.
func TestStatsDPush(t *testing.T) {
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	sd, err := NewStatsD(pc.LocalAddr().String(), "")
	if err != nil {
		t.Fatal(err)
	}
	defer sd.Close()
	f := newFixture(t, sd)
	f.m.Round(context.Background())
	f.router.mu.Lock()
	f.router.snap.Envs[0].Total.Requests = map[string]uint64{"2xx": 95, "5xx": 12}
	f.router.mu.Unlock()
	f.m.Round(context.Background())

	var got bytes.Buffer
	pc.SetReadDeadline(time.Now().Add(5 * time.Second))
	buf := make([]byte, 64<<10)
	for !strings.Contains(got.String(), "jack.http.requests:5|c|#app:notes,env:production,code:2xx") {
		n, _, err := pc.ReadFrom(buf)
		if err != nil {
			t.Fatalf("read StatsD packets: %v; got so far:\n%s", err, got.String())
		}
		if n > maxPacket {
			t.Errorf("a datagram of %d bytes; want at most %d", n, maxPacket)
		}
		got.Write(buf[:n])
		got.WriteByte('\n')
	}
	for _, want := range []string{
		"jack.instance.memory.working_set:31457280|g|#app:notes,env:production,process:web,instance:web.1",
		"jack.environment.health:2|g|#app:notes,env:production,state:degraded",
	} {
		if !strings.Contains(got.String(), want) {
			t.Errorf("StatsD packets lack %q:\n%s", want, got.String())
		}
	}
}

func TestStatsDAddressErrors(t *testing.T) {
	for _, addr := range []string{"nowhere", "no-such-host.invalid:8125", "127.0.0.1:notaport"} {
		if _, err := NewStatsD(addr, ""); jack.ErrorCode(err) != jack.EINVALID || !strings.Contains(err.Error(), addr) {
			t.Errorf("NewStatsD(%q) = %v; want EINVALID naming it", addr, err)
		}
	}
}

// value returns the value of the first metric of a family whose labels
// include want.
func value(families map[string]*dto.MetricFamily, name string, want map[string]string) (float64, bool) {
	m := find(families, name, want)
	if m == nil {
		return 0, false
	}
	switch {
	case m.Gauge != nil:
		return m.GetGauge().GetValue(), true
	case m.Counter != nil:
		return m.GetCounter().GetValue(), true
	}
	return 0, false
}

func find(families map[string]*dto.MetricFamily, name string, want map[string]string) *dto.Metric {
	f := families[name]
	if f == nil {
		return nil
	}
	for _, m := range f.Metric {
		labels := map[string]string{}
		for _, l := range m.Label {
			labels[l.GetName()] = l.GetValue()
		}
		ok := true
		for k, v := range want {
			if labels[k] != v {
				ok = false
			}
		}
		if ok {
			return m
		}
	}
	return nil
}
