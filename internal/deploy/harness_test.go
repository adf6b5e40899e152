package deploy

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	jack "github.com/jack-paas/jack"
	"github.com/jack-paas/jack/internal/router"
	"github.com/jack-paas/jack/internal/secret"
	"github.com/jack-paas/jack/internal/sqlite"
)

// harness is an orchestrator wired to a real store and a real router, with
// a fake runtime whose instances are httptest servers.
type harness struct {
	t      *testing.T
	store  *sqlite.DB
	rt     *fakeRuntime
	proxy  *router.Proxy
	tables *recordingRouter
	front  *httptest.Server
	o      *Orchestrator
	env    *jack.Environment
	static string // the orchestrator's StaticDir
}

func newHarness(t *testing.T) *harness {
	t.Helper()
	db, err := sqlite.Open(filepath.Join(t.TempDir(), "jack.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	key, err := secret.LoadOrCreateKey(filepath.Join(t.TempDir(), "secret-key"))
	if err != nil {
		t.Fatal(err)
	}
	db.Secrets, _ = secret.New(key)
	h := &harness{t: t, store: db, rt: newFakeRuntime(), proxy: router.NewProxy(slog.New(slog.DiscardHandler)), static: t.TempDir()}
	h.tables = &recordingRouter{Router: h.proxy}
	h.front = httptest.NewServer(h.proxy)
	t.Cleanup(h.front.Close)
	ctx := context.Background()
	app := &jack.App{Name: "notes"}
	if err := db.CreateApp(ctx, app); err != nil {
		t.Fatal(err)
	}
	h.env = &jack.Environment{AppID: app.ID, App: "notes", Name: "production", Tier: jack.TierWeb}
	if err := db.CreateEnv(ctx, h.env); err != nil {
		t.Fatal(err)
	}
	h.rt.addImage("notes:v1", fakeImage{})
	h.rt.addImage("notes:v2", fakeImage{})
	h.start()
	return h
}

// start opens a new orchestrator on the harness's store, runtime and
// router, as `jack server` does when it starts.
func (h *harness) start() {
	h.t.Helper()
	h.o = New(Config{
		Store: h.store, Runtime: h.rt, Router: h.tables, Owner: "test",
		Logger: slog.New(slog.DiscardHandler), HealInterval: 100 * time.Millisecond,
		StaticDir: h.static,
	})
	if err := h.o.Open(context.Background()); err != nil {
		h.t.Fatal(err)
	}
	o := h.o
	h.t.Cleanup(func() { o.Close() })
}

// wait follows a deployment to its end.
func (h *harness) wait(d *jack.Deployment) *jack.Deployment {
	h.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for !d.Done() {
		var err error
		if d, err = h.o.WaitDeployment(ctx, d.ID, len(d.Steps)); err != nil {
			h.t.Fatal(err)
		}
		if ctx.Err() != nil {
			h.t.Fatalf("deployment %d did not end: %+v", d.ID, d.Steps)
		}
	}
	return d
}

// deploy deploys req to notes/production and waits for the end.
func (h *harness) deploy(req jack.DeployRequest) *jack.Deployment {
	h.t.Helper()
	req.App, req.Env = "notes", "production"
	d, err := h.o.Deploy(context.Background(), req)
	if err != nil {
		h.t.Fatalf("deploy %+v: %v", req, err)
	}
	return h.wait(d)
}

// mustSucceed fails the test unless d succeeded.
func (h *harness) mustSucceed(d *jack.Deployment, err error) *jack.Deployment {
	h.t.Helper()
	if err != nil {
		h.t.Fatal(err)
	}
	if d == nil {
		h.t.Fatal("no deployment")
	}
	d = h.wait(d)
	if d.State != jack.DeploymentSucceeded {
		h.t.Fatalf("deployment %d %s: %s %v", d.ID, d.State, d.Reason, d.Output)
	}
	return d
}

// get requests notes/production through the router.
func (h *harness) get(path string) (int, string, error) {
	req, _ := http.NewRequest(http.MethodGet, h.front.URL+path, nil)
	req.Host = "production.notes.localhost"
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body), err
}

// body returns what notes/production answers on /, failing on anything but 200.
func (h *harness) body() string {
	h.t.Helper()
	code, body, err := h.get("/")
	if err != nil || code != 200 {
		h.t.Fatalf("GET / = %d %q, %v", code, body, err)
	}
	return body
}

// load keeps clients requesting through the router until stopped, and
// counts every request that did not get a 200.
type load struct {
	ok, failed atomic.Int64
	mu         sync.Mutex
	errors     []string
	stop       chan struct{}
	wg         sync.WaitGroup
}

func (h *harness) load(clients int) *load {
	l := &load{stop: make(chan struct{})}
	for range clients {
		l.wg.Add(1)
		go func() {
			defer l.wg.Done()
			for {
				select {
				case <-l.stop:
					return
				default:
				}
				code, body, err := h.get("/?sleep=2ms")
				if err == nil && code == 200 {
					l.ok.Add(1)
					continue
				}
				l.failed.Add(1)
				l.mu.Lock()
				if len(l.errors) < 10 {
					l.errors = append(l.errors, time.Now().Format("15:04:05.000")+" "+body+" "+errText(err))
				}
				l.mu.Unlock()
			}
		}()
	}
	return l
}

// end stops the load and fails the test if any request failed.
func (l *load) end(t *testing.T) {
	t.Helper()
	close(l.stop)
	l.wg.Wait()
	if l.ok.Load() == 0 {
		t.Fatal("no request succeeded under load")
	}
	if n := l.failed.Load(); n > 0 {
		t.Fatalf("%d of %d requests failed: %v", n, n+l.ok.Load(), l.errors)
	}
	t.Logf("%d requests, none failed", l.ok.Load())
}

// recordingRouter passes route tables to the real router and remembers how
// many upstreams notes/production had in each.
type recordingRouter struct {
	jack.Router
	mu     sync.Mutex
	counts []int
	down   atomic.Int32      // this many more tables fail as if the router were down
	tables []jack.RouteTable // every table sent
}

func (r *recordingRouter) SetRoutes(ctx context.Context, t jack.RouteTable) error {
	if r.down.Add(-1) >= 0 {
		return jack.Errorf(jack.EUNAVAILABLE, "the router does not answer")
	}
	r.mu.Lock()
	r.tables = append(r.tables, t)
	for _, rt := range t.Routes {
		if rt.Env == "notes/production" {
			r.counts = append(r.counts, len(rt.Upstreams))
		}
	}
	r.mu.Unlock()
	return r.Router.SetRoutes(ctx, t)
}

// Routes returns the table the router serves, as the router process's
// client does.
func (r *recordingRouter) Routes(context.Context) (jack.RouteTable, error) {
	return r.Router.(*router.Proxy).Routes(), nil
}

// upstreamCounts returns the upstream counts seen since the last call.
func (r *recordingRouter) upstreamCounts() []int {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := r.counts
	r.counts = nil
	return out
}

// eventually polls cond until it holds or the deadline passes.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
