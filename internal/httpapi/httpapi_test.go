package httpapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/jack-paas/jack"
	"github.com/jack-paas/jack/client"
	"github.com/jack-paas/jack/internal/httpapi"
	"github.com/jack-paas/jack/internal/httpapi/httpapitest"
)

// newAPI starts a test API and returns it with a client holding the right
// token.
func newAPI(t *testing.T) (*httpapitest.Server, *client.Client) {
	t.Helper()
	srv := httpapitest.New(t)
	return srv, client.New(srv.URL, httpapitest.Token)
}

// mustEnv creates app/env (web) through the client.
func mustEnv(t *testing.T, c *client.Client, app, env string) *client.Env {
	t.Helper()
	ctx := context.Background()
	if _, err := c.FindApp(ctx, app); jack.ErrorCode(err) == jack.ENOTFOUND {
		if _, err := c.CreateApp(ctx, app); err != nil {
			t.Fatalf("create app: %v", err)
		}
	}
	e, err := c.CreateEnv(ctx, app, client.CreateEnvRequest{Name: env})
	if err != nil {
		t.Fatalf("create env: %v", err)
	}
	return e
}

// do sends a raw request and returns the status and body.
func do(t *testing.T, method, url, token, body string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	buf, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(buf)
}

// errorBody decodes an error answer.
func errorBody(t *testing.T, body string) httpapi.ErrorBody {
	t.Helper()
	var e httpapi.ErrorResponse
	if err := json.Unmarshal([]byte(body), &e); err != nil {
		t.Fatalf("error body %q is not JSON: %v", body, err)
	}
	return e.Error
}

func TestAuthRefusesMissingAndWrongTokens(t *testing.T) {
	srv, _ := newAPI(t)
	for name, token := range map[string]string{"missing": "", "wrong": "not-the-token"} {
		t.Run(name, func(t *testing.T) {
			status, body := do(t, "GET", srv.URL+"/v1/apps", token, "")
			if status != http.StatusUnauthorized {
				t.Fatalf("status = %d, want 401; body %s", status, body)
			}
			e := errorBody(t, body)
			if e.Code != jack.EUNAUTHORIZED || !strings.Contains(e.Message, "JACK_TOKEN") || !strings.Contains(e.Message, "jack login") {
				t.Fatalf("error = %+v, want unauthorized naming JACK_TOKEN and jack login", e)
			}
		})
	}
	t.Run("other scheme", func(t *testing.T) {
		req, _ := http.NewRequest("GET", srv.URL+"/v1/apps", nil)
		req.SetBasicAuth("admin", httpapitest.Token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusUnauthorized {
			t.Fatalf("status = %d, want 401", resp.StatusCode)
		}
	})
	t.Run("right", func(t *testing.T) {
		status, body := do(t, "GET", srv.URL+"/v1/apps", httpapitest.Token, "")
		if status != http.StatusOK || strings.TrimSpace(body) != "[]" {
			t.Fatalf("status %d body %q, want 200 []", status, body)
		}
	})
	t.Run("health needs none", func(t *testing.T) {
		h, err := client.New(srv.URL, "").Health(context.Background())
		if err != nil || !h.OK || h.Version != jack.BuildVersion {
			t.Fatalf("health = %+v, %v", h, err)
		}
	})
}

func TestErrorCodesRoundTripThroughTheClient(t *testing.T) {
	srv, c := newAPI(t)
	ctx := context.Background()
	if _, err := c.CreateApp(ctx, "notes"); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name   string
		call   func() error
		code   string
		status int
	}{
		{"conflict", func() error { _, err := c.CreateApp(ctx, "notes"); return err }, jack.ECONFLICT, 409},
		{"not found", func() error { _, err := c.FindApp(ctx, "ghost"); return err }, jack.ENOTFOUND, 404},
		{"invalid", func() error { _, err := c.CreateApp(ctx, "Bad_Name"); return err }, jack.EINVALID, 400},
		{"unauthorized", func() error { _, err := client.New(srv.URL, "nope").ListApps(ctx); return err }, jack.EUNAUTHORIZED, 401},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.call()
			var jerr *jack.Error
			if !errors.As(err, &jerr) || jerr.Code != tc.code || jerr.Message == "" {
				t.Fatalf("err = %#v, want *jack.Error with code %s", err, tc.code)
			}
			if got := httpapi.ErrorStatusCode(tc.code); got != tc.status {
				t.Fatalf("status of %s = %d, want %d", tc.code, got, tc.status)
			}
		})
	}
	t.Run("every code maps back", func(t *testing.T) {
		for _, code := range []string{jack.EINVALID, jack.EUNAUTHORIZED, jack.ENOTFOUND, jack.ECONFLICT, jack.EFAILED, jack.EUNAVAILABLE, jack.EINTERNAL} {
			if got := httpapi.FromErrorStatusCode(httpapi.ErrorStatusCode(code)); got != code {
				t.Errorf("code %s -> %d -> %s", code, httpapi.ErrorStatusCode(code), got)
			}
		}
	})
	t.Run("unreachable API", func(t *testing.T) {
		dead := httptest.NewServer(http.NotFoundHandler())
		dead.Close()
		_, err := client.New(dead.URL, "x").ListApps(ctx)
		if jack.ErrorCode(err) != jack.EUNAVAILABLE || !strings.Contains(err.Error(), "JACK_API") {
			t.Fatalf("err = %v, want unavailable naming JACK_API", err)
		}
	})
}

// failingStore fails ListApps with an internal error.
type failingStore struct{ jack.Store }

func (failingStore) ListApps(ctx context.Context) ([]*jack.App, error) {
	return nil, errors.New("disk on fire")
}

func TestInternalErrorsAreLoggedNotShown(t *testing.T) {
	base := httpapitest.New(t)
	var logs bytes.Buffer
	srv := httptest.NewServer(httpapi.New(httpapi.Config{
		Store:        failingStore{base.Store},
		Orchestrator: base.Orchestrator,
		Logger:       slog.New(slog.NewTextHandler(&logs, nil)),
	}))
	defer srv.Close()
	status, body := do(t, "GET", srv.URL+"/v1/apps", httpapitest.Token, "")
	if status != 500 || strings.Contains(body, "disk on fire") {
		t.Fatalf("status %d body %s: want 500 without the internal detail", status, body)
	}
	if e := errorBody(t, body); e.Code != jack.EINTERNAL {
		t.Fatalf("code = %s, want internal", e.Code)
	}
	if !strings.Contains(logs.String(), "disk on fire") {
		t.Fatalf("log lacks the internal error:\n%s", logs.String())
	}
}

func TestNamesAreValidated(t *testing.T) {
	srv, c := newAPI(t)
	ctx := context.Background()
	mustEnv(t, c, "notes", "production")
	for _, tc := range []struct{ name, method, path, body string }{
		{"bad app in path", "GET", "/v1/apps/Notes/envs/production", ""},
		{"bad env in path", "GET", "/v1/apps/notes/envs/-prod", ""},
		{"slash in env", "GET", "/v1/apps/notes/envs/a%2Fb/status", ""},
		{"bad env in body", "POST", "/v1/apps/notes/envs", `{"name":"Prod"}`},
		{"bad tier", "POST", "/v1/apps/notes/envs", `{"name":"staging","tier":"gpu"}`},
		{"bad config key", "PATCH", "/v1/apps/notes/envs/production/config", `{"set":{"1BAD":"x"}}`},
		{"reserved config key", "PATCH", "/v1/apps/notes/envs/production/config", `{"set":{"JACK_APP":"x"}}`},
		{"bad process", "POST", "/v1/apps/notes/envs/production/scale", `{"Web!":1}`},
		{"negative scale", "POST", "/v1/apps/notes/envs/production/scale", `{"web":-1}`},
		{"bad strategy", "POST", "/v1/apps/notes/envs/production/deploys", `{"image":"notes:v1","strategy":"yolo"}`},
		{"nothing to deploy", "POST", "/v1/apps/notes/envs/production/deploys", `{}`},
		{"bad deployment id", "GET", "/v1/deployments/abc", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			status, body := do(t, tc.method, srv.URL+tc.path, httpapitest.Token, tc.body)
			if status != 400 || errorBody(t, body).Code != jack.EINVALID {
				t.Fatalf("status %d body %s, want 400 invalid", status, body)
			}
		})
	}
	if calls := srv.Orchestrator.Calls(); len(calls) != 0 {
		t.Fatalf("invalid requests reached the orchestrator: %v", calls)
	}
	if _, err := c.FindEnv(ctx, "notes", "production"); err != nil {
		t.Fatalf("valid env: %v", err)
	}
}

func TestUnknownJSONFieldsAreRejected(t *testing.T) {
	srv, _ := newAPI(t)
	status, body := do(t, "POST", srv.URL+"/v1/apps", httpapitest.Token, `{"name":"notes","nmae":"x"}`)
	e := errorBody(t, body)
	if status != 400 || e.Code != jack.EINVALID || !strings.Contains(e.Message, `"nmae"`) {
		t.Fatalf("status %d error %+v, want 400 naming the field", status, e)
	}
	for name, body := range map[string]string{
		"not JSON":      `{"name":`,
		"wrong type":    `{"name":42}`,
		"trailing data": `{"name":"notes"} {}`,
		"empty":         ``,
		"too large":     `{"name":"` + strings.Repeat("a", 2<<20) + `"}`,
	} {
		t.Run(name, func(t *testing.T) {
			status, resp := do(t, "POST", srv.URL+"/v1/apps", httpapitest.Token, body)
			if status != 400 || errorBody(t, resp).Code != jack.EINVALID {
				t.Fatalf("status %d body %.200s, want 400 invalid", status, resp)
			}
		})
	}
	if status, _ := do(t, "GET", srv.URL+"/v1/apps/notes", httpapitest.Token, ""); status != 404 {
		t.Fatalf("a rejected body created the app (status %d)", status)
	}
}

func TestEnvsShowTheirURL(t *testing.T) {
	_, c := newAPI(t)
	ctx := context.Background()
	web := mustEnv(t, c, "notes", "production")
	if web.URL != "http://production.notes.localhost:8080" {
		t.Fatalf("URL = %q", web.URL)
	}
	worker, err := c.CreateEnv(ctx, "notes", client.CreateEnvRequest{Name: "jobs", Tier: jack.TierWorker})
	if err != nil {
		t.Fatal(err)
	}
	if worker.URL != "" {
		t.Fatalf("worker URL = %q, want none", worker.URL)
	}
	envs, err := c.ListEnvs(ctx, "")
	if err != nil || len(envs) != 2 {
		t.Fatalf("ListEnvs = %v, %v", envs, err)
	}
	for _, e := range envs {
		if e.Name == "production" && e.URL != web.URL {
			t.Fatalf("listed URL = %q", e.URL)
		}
	}
}

func TestConfigIsMaskedInListingsAndRevealedByKey(t *testing.T) {
	srv, c := newAPI(t)
	ctx := context.Background()
	mustEnv(t, c, "notes", "production")
	const secret = "s3cr3t=with=equals"
	d, err := c.SetConfig(ctx, "notes", "production", map[string]string{"SECRET_KEY": secret, "DEBUG": ""}, nil)
	if err != nil || d != nil {
		t.Fatalf("SetConfig before any deploy = %v, %v; want stored without a deployment", d, err)
	}
	config, err := c.Config(ctx, "notes", "production")
	if err != nil {
		t.Fatal(err)
	}
	if config["SECRET_KEY"] != jack.MaskValue(secret) || config["SECRET_KEY"] == secret {
		t.Fatalf("listed SECRET_KEY = %q, want masked", config["SECRET_KEY"])
	}
	if _, ok := config["DEBUG"]; !ok {
		t.Fatalf("listing lacks DEBUG: %v", config)
	}
	for _, p := range []string{"/config", "", "/status"} {
		_, body := do(t, "GET", srv.URL+"/v1/apps/notes/envs/production"+p, httpapitest.Token, "")
		if strings.Contains(body, "s3cr3t") {
			t.Fatalf("GET %s shows the value: %s", p, body)
		}
	}
	got, err := c.ConfigValue(ctx, "notes", "production", "SECRET_KEY")
	if err != nil || got != secret {
		t.Fatalf("ConfigValue = %q, %v; want %q", got, err, secret)
	}
	if _, err := c.ConfigValue(ctx, "notes", "production", "MISSING"); jack.ErrorCode(err) != jack.ENOTFOUND {
		t.Fatalf("missing key: %v, want not found", err)
	}
	if _, err := c.SetConfig(ctx, "notes", "production", nil, []string{"SECRET_KEY"}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.ConfigValue(ctx, "notes", "production", "SECRET_KEY"); jack.ErrorCode(err) != jack.ENOTFOUND {
		t.Fatalf("unset key still there: %v", err)
	}
	for _, call := range srv.Orchestrator.Calls() {
		if strings.Contains(call, "s3cr3t") {
			t.Fatalf("orchestrator call recorded a value: %s", call)
		}
	}
}

func TestConfigValuesThatAreNotUTF8RoundTrip(t *testing.T) {
	srv, c := newAPI(t)
	ctx := context.Background()
	mustEnv(t, c, "notes", "production")
	binary := "\xff\xfe key\x01\x80"
	if _, err := c.SetConfig(ctx, "notes", "production", map[string]string{"BLOB": binary}, nil); err != nil {
		t.Fatal(err)
	}
	got, err := c.ConfigValue(ctx, "notes", "production", "BLOB")
	if err != nil || got != binary {
		t.Fatalf("ConfigValue = %q, %v; want %q", got, err, binary)
	}
	// The wire form: set_base64 in, base64 out, no lossy "value".
	status, body := do(t, "PATCH", srv.URL+"/v1/apps/notes/envs/production/config", httpapitest.Token, `{"set_base64":{"RAW":"/w=="}}`)
	if status != 200 {
		t.Fatalf("PATCH set_base64: %d %s", status, body)
	}
	_, body = do(t, "GET", srv.URL+"/v1/apps/notes/envs/production/config/RAW", httpapitest.Token, "")
	var v httpapi.ConfigValue
	if err := json.Unmarshal([]byte(body), &v); err != nil || v.Base64 != "/w==" || v.Value != "" {
		t.Fatalf("GET RAW = %s (%v), want base64 /w== and no value", body, err)
	}
	for name, patch := range map[string]string{
		"NUL byte":       `{"set":{"A":"x\u0000y"}}`,
		"bad base64":     `{"set_base64":{"A":"***"}}`,
		"set and unset":  `{"set":{"A":"1"},"unset":["A"]}`,
		"nothing":        `{}`,
		"value too long": `{"set":{"A":"` + strings.Repeat("x", jack.MaxConfigValue+1) + `"}}`,
	} {
		status, body := do(t, "PATCH", srv.URL+"/v1/apps/notes/envs/production/config", httpapitest.Token, patch)
		if status != 400 {
			t.Errorf("%s: status %d body %.200s, want 400", name, status, body)
		}
	}
}

func TestFollowDeploymentStreamsEachChangeAndEndsWhenDone(t *testing.T) {
	srv, c := newAPI(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	mustEnv(t, c, "notes", "production")
	d, err := c.Deploy(ctx, jack.DeployRequest{App: "notes", Env: "production", Image: "notes:v1"})
	if err != nil {
		t.Fatal(err)
	}
	if d.State != jack.DeploymentRunning {
		t.Fatalf("deploy answered %s, want running", d.State)
	}
	// Each state the client sees drives the next change, so every change
	// must come through the stream for the follow to end.
	var seen []int
	final, err := c.FollowDeployment(ctx, d.ID, func(d *jack.Deployment) {
		seen = append(seen, len(d.Steps))
		switch len(d.Steps) {
		case 0:
			err = srv.Orchestrator.Step(ctx, d.ID, "starting web.1")
		case 1:
			err = srv.Orchestrator.Step(ctx, d.ID, "web.1 healthy")
		case 2:
			err = srv.Orchestrator.Finish(ctx, d.ID, "", nil)
		}
		if err != nil {
			t.Errorf("drive deployment: %v", err)
		}
	})
	if err != nil {
		t.Fatalf("FollowDeployment: %v", err)
	}
	if !final.Done() || final.State != jack.DeploymentSucceeded || len(final.Steps) != 2 || final.Steps[1].Message != "web.1 healthy" {
		t.Fatalf("final = %+v", final)
	}
	if want := []int{0, 1, 2, 2}; fmt.Sprint(seen) != fmt.Sprint(want) {
		t.Fatalf("saw step counts %v, want %v", seen, want)
	}
	// A finished deployment streams one line and ends.
	lines := 0
	if _, err := c.FollowDeployment(ctx, d.ID, func(*jack.Deployment) { lines++ }); err != nil || lines != 1 {
		t.Fatalf("follow of a finished deployment: %d lines, %v", lines, err)
	}
	got, err := c.FindDeployment(ctx, d.ID)
	if err != nil || got.State != jack.DeploymentSucceeded {
		t.Fatalf("FindDeployment = %+v, %v", got, err)
	}
}

func TestDeployOfVersionAndRollbackReachTheOrchestrator(t *testing.T) {
	srv, c := newAPI(t)
	ctx := context.Background()
	mustEnv(t, c, "notes", "production")
	srv.Orchestrator.SetNext(&httpapitest.Outcome{Steps: []string{"done"}})
	if _, err := c.Deploy(ctx, jack.DeployRequest{App: "notes", Env: "production", Image: "notes:v1", Label: "first", Timeout: time.Minute, ManifestName: "jack.yaml", Manifest: "processes: {}"}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Deploy(ctx, jack.DeployRequest{App: "notes", Env: "production", Version: "first"}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Rollback(ctx, "notes", "production", 1, jack.ReleaseOptions{}); err != nil {
		t.Fatal(err)
	}
	want := []string{
		"Deploy notes/production image=notes:v1 version= manifest=jack.yaml label=first strategy= timeout=1m0s",
		"Deploy notes/production image= version=first manifest= label= strategy= timeout=0s",
		"Rollback notes/production to=1",
	}
	if got := srv.Orchestrator.Calls(); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("calls:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	versions, err := c.ListVersions(ctx, "notes")
	if err != nil || len(versions) != 1 || versions[0].Label != "first" {
		t.Fatalf("versions = %v, %v", versions, err)
	}
	releases, err := c.ListReleases(ctx, "notes", "production")
	if err != nil || len(releases) != 3 || releases[0].Number != 3 {
		t.Fatalf("releases = %v, %v", releases, err)
	}
	deployments, err := c.ListDeployments(ctx, "notes", "production", 2)
	if err != nil || len(deployments) != 2 || deployments[0].Kind != "rollback" {
		t.Fatalf("deployments = %v, %v", deployments, err)
	}
	if _, err := c.Rollback(ctx, "notes", "production", 99, jack.ReleaseOptions{}); jack.ErrorCode(err) != jack.ENOTFOUND {
		t.Fatalf("rollback to a missing release: %v", err)
	}
}

func TestRollbackCarriesTheReleaseOptions(t *testing.T) {
	srv, c := newAPI(t)
	ctx := context.Background()
	mustEnv(t, c, "notes", "production")
	srv.Orchestrator.SetNext(&httpapitest.Outcome{})
	for _, image := range []string{"notes:v1", "notes:v2"} {
		if _, err := c.Deploy(ctx, jack.DeployRequest{App: "notes", Env: "production", Image: image}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := c.Rollback(ctx, "notes", "production", 1, jack.ReleaseOptions{Skip: true}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Rollback(ctx, "notes", "production", 2, jack.ReleaseOptions{Force: true}); err != nil {
		t.Fatal(err)
	}
	_, err := c.Rollback(ctx, "notes", "production", 1, jack.ReleaseOptions{Skip: true, Force: true})
	if jack.ErrorCode(err) != jack.EINVALID {
		t.Fatalf("rollback that skips and forces the release command: %v, want invalid", err)
	}
	calls := srv.Orchestrator.Calls()
	want := []string{"Rollback notes/production to=1 skip_release", "Rollback notes/production to=2 force_release"}
	if len(calls) != 4 || strings.Join(calls[2:], "\n") != strings.Join(want, "\n") {
		t.Fatalf("calls:\n%s\nwant them to end with:\n%s", strings.Join(calls, "\n"), strings.Join(want, "\n"))
	}
}

func TestInvalidDeployRequestsNeverReachTheOrchestrator(t *testing.T) {
	srv, c := newAPI(t)
	mustEnv(t, c, "notes", "production")
	for name, body := range map[string]string{
		"an image and a version":    `{"image":"notes:v1","version":"v1"}`,
		"a version with a manifest": `{"version":"v1","manifest":"web: app","manifest_name":"Procfile"}`,
		"a version with a label":    `{"version":"v1","label":"again"}`,
		"a negative timeout":        `{"image":"notes:v1","timeout":-1}`,
		"skip and force release":    `{"image":"notes:v1","skip_release":true,"force_release":true}`,
	} {
		t.Run(name, func(t *testing.T) {
			status, resp := do(t, "POST", srv.URL+"/v1/apps/notes/envs/production/deploys", httpapitest.Token, body)
			e := errorBody(t, resp)
			if status != 400 || e.Code != jack.EINVALID {
				t.Fatalf("status %d body %s, want 400 invalid", status, resp)
			}
			if strings.Contains(e.Message, "--") {
				t.Fatalf("%q names a CLI flag; an API client has none", e.Message)
			}
		})
	}
	if calls := srv.Orchestrator.Calls(); len(calls) != 0 {
		t.Fatalf("invalid requests reached the orchestrator: %v", calls)
	}
}

func TestScaleIsStoredBeforeTheFirstDeployAndRolledOutAfter(t *testing.T) {
	srv, c := newAPI(t)
	ctx := context.Background()
	mustEnv(t, c, "notes", "production")
	d, err := c.Scale(ctx, "notes", "production", map[string]int{"web": 3})
	if err != nil || d != nil {
		t.Fatalf("Scale before deploy = %v, %v; want stored", d, err)
	}
	srv.Orchestrator.SetNext(&httpapitest.Outcome{})
	if _, err := c.Deploy(ctx, jack.DeployRequest{App: "notes", Env: "production", Image: "notes:v1"}); err != nil {
		t.Fatal(err)
	}
	d, err = c.Scale(ctx, "notes", "production", map[string]int{"worker": 2})
	if err != nil || d == nil || d.Kind != "scale" {
		t.Fatalf("Scale after deploy = %+v, %v; want a scale deployment", d, err)
	}
	e, err := c.FindEnv(ctx, "notes", "production")
	if err != nil || e.Scale["web"] != 3 || e.Scale["worker"] != 2 {
		t.Fatalf("env scale = %v, %v", e.Scale, err)
	}
	if d, err := c.Restart(ctx, "notes", "production", "web"); err != nil || d.Kind != "restart" {
		t.Fatalf("Restart = %+v, %v", d, err)
	}
}

func TestStatusSummarizesTheEnvironment(t *testing.T) {
	srv, c := newAPI(t)
	ctx := context.Background()
	mustEnv(t, c, "notes", "production")
	srv.Orchestrator.SetNext(&httpapitest.Outcome{Steps: []string{"ok"}})
	if _, err := c.Deploy(ctx, jack.DeployRequest{App: "notes", Env: "production", Image: "notes:v1"}); err != nil {
		t.Fatal(err)
	}
	srv.Orchestrator.SetInstances([]*jack.Instance{
		{Name: "web.1", Process: "web", State: jack.InstanceHealthy},
		{Name: "web.2", Process: "web", State: jack.InstanceStarting},
		{Name: "web.3", Process: "web", State: jack.InstanceHealthy},
		{Name: "worker.1", Process: "worker", State: jack.InstanceHealthy},
	})
	st, err := c.Status(ctx, "notes", "production")
	if err != nil {
		t.Fatal(err)
	}
	if st.URL != "http://production.notes.localhost:8080" || st.Release == nil || st.Release.Number != 1 ||
		st.Version != "v1" || st.Image != "notes:v1" || st.State != jack.DeploymentSucceeded || st.LastDeployment == nil {
		t.Fatalf("status = %+v", st)
	}
	if st.Instances["web"][jack.InstanceHealthy] != 2 || st.Instances["web"][jack.InstanceStarting] != 1 || st.Instances["worker"][jack.InstanceHealthy] != 1 {
		t.Fatalf("instances = %v", st.Instances)
	}
	instances, err := c.Instances(ctx, "notes", "production")
	if err != nil || len(instances) != 4 {
		t.Fatalf("Instances = %v, %v", instances, err)
	}
}

func TestFollowEventsStreamsNewEventsUntilTheClientLeaves(t *testing.T) {
	srv, c := newAPI(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	e := mustEnv(t, c, "notes", "production")
	add := func(msg string) {
		if err := srv.Store.AddEvent(ctx, &jack.Event{EnvID: e.ID, Time: time.Now(), Kind: "test", Message: msg}); err != nil {
			t.Fatal(err)
		}
	}
	add("one")
	add("two")
	events, err := c.Events(ctx, "notes", "production", 0, 0)
	if err != nil || len(events) != 2 {
		t.Fatalf("Events = %v, %v", events, err)
	}
	after, err := c.Events(ctx, "notes", "production", events[0].ID, 0)
	if err != nil || len(after) != 1 || after[0].Message != "two" {
		t.Fatalf("Events after the first = %v, %v", after, err)
	}

	followCtx, stop := context.WithCancel(ctx)
	var got []string
	err = c.FollowEvents(followCtx, "notes", "production", events[0].ID, func(ev *jack.Event) {
		got = append(got, ev.Message)
		if ev.Message == "two" {
			add("three") // stored after the follow began
		}
		if ev.Message == "three" {
			stop()
		}
	})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("FollowEvents ended with %v, want context.Canceled", err)
	}
	if strings.Join(got, ",") != "two,three" {
		t.Fatalf("followed %v, want [two three]", got)
	}
}

func TestDeleteRefusesAnAppWithEnvironments(t *testing.T) {
	srv, c := newAPI(t)
	ctx := context.Background()
	mustEnv(t, c, "notes", "production")
	if err := c.DeleteApp(ctx, "notes"); jack.ErrorCode(err) != jack.ECONFLICT {
		t.Fatalf("DeleteApp with an env: %v, want conflict", err)
	}
	if err := c.DeleteEnv(ctx, "notes", "production"); err != nil {
		t.Fatal(err)
	}
	if calls := srv.Orchestrator.Calls(); len(calls) != 1 || calls[0] != "DeleteEnv notes/production" {
		t.Fatalf("calls = %v", calls)
	}
	if err := c.DeleteApp(ctx, "notes"); err != nil {
		t.Fatal(err)
	}
	if apps, err := c.ListApps(ctx); err != nil || len(apps) != 0 {
		t.Fatalf("apps = %v, %v", apps, err)
	}
}

func TestUnknownEndpointsAnswerJSON(t *testing.T) {
	srv, _ := newAPI(t)
	status, body := do(t, "GET", srv.URL+"/v1/nope", httpapitest.Token, "")
	if status != 404 || errorBody(t, body).Code != jack.ENOTFOUND {
		t.Fatalf("status %d body %s", status, body)
	}
}
