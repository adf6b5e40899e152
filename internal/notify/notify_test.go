package notify

import (
	"context"
	"crypto/hmac"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	jack "github.com/jack-paas/jack"
	"github.com/jack-paas/jack/internal/sqlite"
)

// receiver is a webhook endpoint that checks each request's signature and
// answers the statuses it is given, in order (then 200).
type receiver struct {
	t      *testing.T
	secret string
	mu     sync.Mutex
	codes  []int
	got    []Payload
	bad    int // requests with a wrong signature
}

func (rc *receiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	rc.mu.Lock()
	defer rc.mu.Unlock()
	if !hmac.Equal([]byte(r.Header.Get(SignatureHeader)), []byte(Sign(rc.secret, body))) || r.Header.Get(EventHeader) == "" {
		rc.bad++
		http.Error(w, "bad signature", http.StatusUnauthorized)
		return
	}
	var p Payload
	if err := json.Unmarshal(body, &p); err != nil {
		rc.t.Errorf("payload is not JSON: %v", err)
	}
	rc.got = append(rc.got, p)
	code := 200
	if len(rc.codes) > 0 {
		code, rc.codes = rc.codes[0], rc.codes[1:]
	}
	w.WriteHeader(code)
}

func (rc *receiver) payloads() []Payload {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]Payload(nil), rc.got...)
}

type fixture struct {
	db  *sqlite.DB
	env *jack.Environment
	n   *Notifier
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	db, err := sqlite.Open(filepath.Join(t.TempDir(), "jack.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	ctx := context.Background()
	app := &jack.App{Name: "notes"}
	if err := db.CreateApp(ctx, app); err != nil {
		t.Fatal(err)
	}
	env := &jack.Environment{AppID: app.ID, Name: "production", Tier: jack.TierWeb}
	if err := db.CreateEnv(ctx, env); err != nil {
		t.Fatal(err)
	}
	n := New(Config{Store: db, RetryBase: 50 * time.Millisecond, MaxAttempts: 3})
	n.Start()
	t.Cleanup(func() { n.Close() })
	return &fixture{db: db, env: env, n: n}
}

func (f *fixture) hook(t *testing.T, url, secret string) {
	t.Helper()
	if err := f.db.CreateHook(context.Background(), &jack.Hook{EnvID: f.env.ID, URL: url, Secret: secret}); err != nil {
		t.Fatal(err)
	}
}

func (f *fixture) deliveries(t *testing.T) []*jack.Delivery {
	t.Helper()
	list, err := f.db.ListDeliveries(context.Background(), f.env.ID, 100)
	if err != nil {
		t.Fatal(err)
	}
	return list
}

func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// A receiver that fails once gets the delivery again after a back-off,
// signed, and the history shows two attempts.
func TestDeliveryIsSignedAndRetried(t *testing.T) {
	f := newFixture(t)
	rc := &receiver{t: t, secret: "s3cret", codes: []int{503}}
	srv := httptest.NewServer(rc)
	defer srv.Close()
	f.hook(t, srv.URL+"/hook", "s3cret")

	f.n.Deploy(jack.DeployNotice{Event: jack.HookDeployFailed, Env: f.env, Deployment: &jack.Deployment{
		ID: 12, ReleaseNumber: 5, Kind: "deploy", State: jack.DeploymentFailed, Reason: "web.1 exited with code 3",
		Steps: []jack.Step{{Message: "Starting web.1"}},
	}})
	eventually(t, "a delivered delivery", func() bool {
		d := f.deliveries(t)
		return len(d) == 1 && d[0].State == jack.DeliveryDelivered
	})
	d := f.deliveries(t)[0]
	if d.Attempts != 2 || d.StatusCode != 200 || d.Event != jack.HookDeployFailed || d.URL != srv.URL+"/hook" {
		t.Errorf("delivery %+v; want delivered at the second attempt", d)
	}
	got := rc.payloads()
	if len(got) != 2 || rc.bad != 0 {
		t.Fatalf("receiver got %d signed requests and %d badly signed; want 2 and 0", len(got), rc.bad)
	}
	p := got[1]
	if p.Text != "notes/production: deployment 12 of release 5 failed: web.1 exited with code 3" ||
		p.Event != "deploy.failed" || p.App != "notes" || p.Env != "production" || p.Deployment == nil || len(p.Deployment.Steps) != 0 {
		t.Errorf("payload %+v", p)
	}
}

// A receiver that refuses (4xx) is not retried; one that never answers 2xx
// is given up after MaxAttempts; a wrong secret fails the signature check.
func TestDeliveryGivesUp(t *testing.T) {
	f := newFixture(t)
	gone := httptest.NewServer(http.NotFoundHandler())
	defer gone.Close()
	down := &receiver{t: t, secret: "x", codes: []int{500, 500, 500, 500}}
	downSrv := httptest.NewServer(down)
	defer downSrv.Close()
	wrong := &receiver{t: t, secret: "right"}
	wrongSrv := httptest.NewServer(wrong)
	defer wrongSrv.Close()
	f.hook(t, gone.URL, "x")
	f.hook(t, downSrv.URL, "x")
	f.hook(t, wrongSrv.URL, "not-the-receivers")

	f.n.HealthChanged(f.env, jack.HealthOK, &jack.Health{State: jack.HealthDegraded, Causes: []string{"1 of 2 web instances failing health checks"}})
	eventually(t, "every delivery ended", func() bool {
		ds := f.deliveries(t) // one reading: they may be stored between two
		for _, d := range ds {
			if d.State == jack.DeliveryPending {
				return false
			}
		}
		return len(ds) == 3
	})
	byURL := map[string]*jack.Delivery{}
	for _, d := range f.deliveries(t) {
		byURL[d.URL] = d
	}
	if d := byURL[gone.URL]; d.State != jack.DeliveryFailed || d.Attempts != 1 || d.StatusCode != 404 {
		t.Errorf("404 receiver: %+v; want failed after one attempt", d)
	}
	if d := byURL[downSrv.URL]; d.State != jack.DeliveryFailed || d.Attempts != 3 || !strings.Contains(d.Error, "500") {
		t.Errorf("500 receiver: %+v; want failed after 3 attempts", d)
	}
	if d := byURL[wrongSrv.URL]; d.State != jack.DeliveryFailed || d.StatusCode != 401 || wrong.bad != 1 {
		t.Errorf("wrong secret: %+v, %d bad signatures", d, wrong.bad)
	}
	p := down.payloads()[0]
	if p.Text != "notes/production health is degraded (was ok): 1 of 2 web instances failing health checks" ||
		p.Health == nil || p.Health.To != "degraded" {
		t.Errorf("health payload %+v", p)
	}
}

// Deliveries left pending by a stopped notifier are sent by the next one.
func TestPendingDeliveriesSurviveARestart(t *testing.T) {
	f := newFixture(t)
	f.n.Close()
	rc := &receiver{t: t, secret: "x"}
	srv := httptest.NewServer(rc)
	defer srv.Close()
	f.hook(t, srv.URL, "x")
	hooks, _ := f.db.ListHooks(context.Background(), f.env.ID)
	if err := f.db.CreateDelivery(context.Background(), &jack.Delivery{HookID: hooks[0].ID, EnvID: f.env.ID, Event: "deploy.started",
		Payload: `{"text":"left over"}`, State: jack.DeliveryPending}); err != nil {
		t.Fatal(err)
	}
	n := New(Config{Store: f.db, RetryBase: 50 * time.Millisecond})
	n.Start()
	defer n.Close()
	eventually(t, "the left-over delivery", func() bool { return len(rc.payloads()) == 1 })
}
