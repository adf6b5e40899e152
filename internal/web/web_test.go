package web

import (
	"context"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	jack "github.com/jack-paas/jack"
	"github.com/jack-paas/jack/internal/httpapi/httpapitest"
)

// dashboard serves the dashboard over the test API's store, with one
// deployed environment.
func dashboard(t *testing.T) (*httptest.Server, *httpapitest.Server) {
	t.Helper()
	api := httpapitest.New(t)
	ctx := context.Background()
	app := &jack.App{Name: "notes"}
	if err := api.Store.CreateApp(ctx, app); err != nil {
		t.Fatal(err)
	}
	env := &jack.Environment{AppID: app.ID, Name: "production", Tier: jack.TierWeb,
		Config: map[string]string{"SECRET_KEY": "s3cret-value"}}
	if err := api.Store.CreateEnv(ctx, env); err != nil {
		t.Fatal(err)
	}
	d, err := api.Orchestrator.Deploy(ctx, jack.DeployRequest{App: "notes", Env: "production", Image: "notes:v1"})
	if err != nil {
		t.Fatal(err)
	}
	api.Orchestrator.Step(ctx, d.ID, "Starting web.1 (1/1)")
	api.Orchestrator.Finish(ctx, d.ID, "", nil)
	api.Orchestrator.SetInstances([]*jack.Instance{{Name: "web.1", Process: "web", State: jack.InstanceHealthy, Release: 1, Version: "v1", Address: "172.18.0.9:8080"}})
	srv := httptest.NewServer(New(Config{Store: api.Store, Orchestrator: api.Orchestrator, HTTPAddr: ":8080"}))
	t.Cleanup(srv.Close)
	return srv, api
}

func browser(t *testing.T) *http.Client {
	jar, _ := cookiejar.New(nil)
	return &http.Client{Jar: jar}
}

func get(t *testing.T, b *http.Client, url string) (int, string) {
	t.Helper()
	return reply(t)(b.Get(url))
}

func post(t *testing.T, b *http.Client, url string, form url.Values) (int, string) {
	t.Helper()
	return reply(t)(b.PostForm(url, form))
}

// reply reads a response's status and body.
func reply(t *testing.T) func(*http.Response, error) (int, string) {
	return func(resp *http.Response, err error) (int, string) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
}

func TestPagesNeedAValidToken(t *testing.T) {
	srv, _ := dashboard(t)
	b := browser(t)
	code, body := get(t, b, srv.URL+"/apps/notes/envs/production")
	if code != 200 || !strings.Contains(body, "Sign in") {
		t.Fatalf("without a token: %d, want the sign-in page", code)
	}
	code, body = post(t, b, srv.URL+"/login", url.Values{"token": {"wrong"}})
	if code != http.StatusUnauthorized || !strings.Contains(body, "not valid") {
		t.Fatalf("wrong token: %d %s", code, body)
	}
	code, body = post(t, b, srv.URL+"/login", url.Values{"token": {httpapitest.Token}})
	if code != 200 || !strings.Contains(body, "notes/production") {
		t.Fatalf("signed in: %d %s", code, body)
	}
	post(t, b, srv.URL+"/logout", nil)
	if _, body = get(t, b, srv.URL+"/"); !strings.Contains(body, "Sign in") {
		t.Fatal("signed out, but the overview still shows")
	}
}

func TestTheEnvironmentPageShowsStateButNeverConfigValues(t *testing.T) {
	srv, _ := dashboard(t)
	b := browser(t)
	post(t, b, srv.URL+"/login", url.Values{"token": {httpapitest.Token}})
	code, body := get(t, b, srv.URL+"/apps/notes/envs/production")
	if code != 200 {
		t.Fatalf("env page: %d", code)
	}
	for _, want := range []string{"web.1", "healthy", "172.18.0.9:8080", "Starting web.1 (1/1)", "succeeded", "SECRET_KEY", "http://production.notes.localhost:8080"} {
		if !strings.Contains(body, want) {
			t.Errorf("env page lacks %q", want)
		}
	}
	if strings.Contains(body, "s3cret-value") {
		t.Fatal("the env page shows a config value")
	}
	if code, _ = get(t, b, srv.URL+"/apps/notes/envs/nope"); code != http.StatusNotFound {
		t.Fatalf("unknown environment: %d", code)
	}
}
