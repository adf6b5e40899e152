package deploy

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	jack "github.com/jack-paas/jack"
)

const staticManifest = "processes: {web: {health: /health}}\nstatic:\n  - {url: /static/, path: /app/static}\ndeploy: {drain: 300ms}\n"

// getHost requests path for host through the router.
func (h *harness) getHost(host, path string) (int, string) {
	h.t.Helper()
	req, _ := http.NewRequest(http.MethodGet, h.front.URL+path, nil)
	req.Host = host
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	defer resp.Body.Close()
	var b strings.Builder
	buf := make([]byte, 4096)
	for {
		n, err := resp.Body.Read(buf)
		b.Write(buf[:n])
		if err != nil {
			break
		}
	}
	return resp.StatusCode, b.String()
}

func TestStaticFilesFollowTheVersionThatServes(t *testing.T) {
	h := newHarness(t)
	h.rt.addImage("shop:v1", fakeImage{files: map[string]string{"/app/static/app.css": "v1 css", "/app/static/old.11111111.js": "old"}})
	h.rt.addImage("shop:v2", fakeImage{files: map[string]string{"/app/static/app.css": "v2 css", "/app/static/img/logo.svg": "<svg/>"}})
	const host = "production.notes.localhost"

	d := h.deploy(jack.DeployRequest{Image: "shop:v1", Manifest: staticManifest, ManifestName: "jack.yaml"})
	if d.State != jack.DeploymentSucceeded {
		t.Fatal(d.Reason)
	}
	if code, body := h.getHost(host, "/static/app.css"); code != 200 || body != "v1 css" {
		t.Fatalf("v1: %d %q", code, body)
	}
	if code, body := h.getHost(host, "/"); code != 200 || !strings.Contains(body, "version=v1") {
		t.Fatalf("the app: %d %q", code, body)
	}
	if d := h.deploy(jack.DeployRequest{Image: "shop:v2", Manifest: staticManifest, ManifestName: "jack.yaml"}); d.State != jack.DeploymentSucceeded {
		t.Fatal(d.Reason)
	}
	for path, want := range map[string]string{"/static/app.css": "v2 css", "/static/img/logo.svg": "<svg/>"} {
		if code, body := h.getHost(host, path); code != 200 || body != want {
			t.Errorf("v2 %s: %d %q", path, code, body)
		}
	}
	if code, _ := h.getHost(host, "/static/old.11111111.js"); code != 404 {
		t.Errorf("v1's file after v2 serves: %d, want 404", code)
	}
	h.mustSucceed(h.o.Rollback(context.Background(), "notes", "production", 0, jack.ReleaseOptions{}))
	if code, body := h.getHost(host, "/static/app.css"); code != 200 || body != "v1 css" {
		t.Errorf("after rollback: %d %q; want v1's file again", code, body)
	}

	// The files live with their version and go when it does.
	versions, _ := h.store.ListVersions(context.Background(), h.env.AppID)
	if len(versions) != 2 {
		t.Fatalf("%d versions", len(versions))
	}
	for _, v := range versions {
		if _, err := os.Stat(filepath.Join(h.static, strconv.FormatInt(v.ID, 10), "0", "app.css")); err != nil {
			t.Errorf("version %s's files: %v", v.Label, err)
		}
	}
	if err := h.o.DeleteEnv(context.Background(), "notes", "production"); err != nil {
		t.Fatal(err)
	}
	if err := h.store.DeleteApp(context.Background(), h.env.AppID); err != nil {
		t.Fatal(err)
	}
	h.o.collectStatic(context.Background(), time.Hour)
	if entries, _ := os.ReadDir(h.static); len(entries) != 0 {
		t.Errorf("static folders left after the app was deleted: %v", entries)
	}
}

func TestDeployRefusesStaticFilesTheImageDoesNotHave(t *testing.T) {
	h := newHarness(t)
	h.rt.addImage("shop:v1", fakeImage{files: map[string]string{"/srv/other/x.css": "x"}})
	_, err := h.o.Deploy(context.Background(), jack.DeployRequest{App: "notes", Env: "production", Image: "shop:v1", Manifest: staticManifest, ManifestName: "jack.yaml"})
	if err == nil || !strings.Contains(err.Error(), "static /static/: the image has no /app/static") {
		t.Fatalf("deploy: %v", err)
	}
	if vs, _ := h.store.ListVersions(context.Background(), h.env.AppID); len(vs) != 0 {
		t.Errorf("a refused deploy made %d versions", len(vs))
	}
	if entries, _ := os.ReadDir(h.static); len(entries) != 0 {
		t.Errorf("a refused deploy left %v", entries)
	}
}

// A WebSocket opened before a deploy keeps working while the deploy runs;
// when its instance is drained it gets a close frame saying "going away",
// and a new one reaches the new version. Plain requests meanwhile all
// succeed.
func TestWebSocketSpansADeploy(t *testing.T) {
	h := newHarness(t)
	const manifest = "processes: {web: {health: /health, instances: 2}}\ndeploy: {drain: 1s}\n"
	if d := h.deploy(jack.DeployRequest{Image: "notes:v1", Manifest: manifest, ManifestName: "jack.yaml"}); d.State != jack.DeploymentSucceeded {
		t.Fatal(d.Reason)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	dial := func() *websocket.Conn {
		t.Helper()
		c, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(h.front.URL, "http")+"/ws", &websocket.DialOptions{Host: "production.notes.localhost"})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.CloseNow() })
		return c
	}
	echo := func(c *websocket.Conn, msg string) (string, error) {
		if err := c.Write(ctx, websocket.MessageText, []byte(msg)); err != nil {
			return "", err
		}
		_, got, err := c.Read(ctx)
		return string(got), err
	}
	ws := dial()
	if got, err := echo(ws, "hello"); err != nil || !strings.HasPrefix(got, "version=v1") {
		t.Fatalf("before the deploy: %q, %v", got, err)
	}

	l := h.load(4)
	d, err := h.o.Deploy(context.Background(), jack.DeployRequest{App: "notes", Env: "production", Image: "notes:v2", Manifest: manifest, ManifestName: "jack.yaml"})
	if err != nil {
		t.Fatal(err)
	}
	// The socket carries messages through the rollout, until its drain ends
	// with a close frame.
	var closeErr error
	for i := 0; closeErr == nil; i++ {
		got, err := echo(ws, fmt.Sprintf("during %d", i))
		if err != nil {
			closeErr = err
			break
		}
		if !strings.HasPrefix(got, "version=v1") {
			t.Fatalf("message %d answered by %q; the socket moved instances", i, got)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if status := websocket.CloseStatus(closeErr); status != websocket.StatusGoingAway {
		t.Errorf("the socket ended with %v (status %d); want a close frame with 1001 going away", closeErr, status)
	}
	if d = h.wait(d); d.State != jack.DeploymentSucceeded {
		t.Fatal(d.Reason)
	}
	l.end(t)
	again := dial()
	if got, err := echo(again, "after"); err != nil || !strings.HasPrefix(got, "version=v2") {
		t.Errorf("a new socket after the deploy: %q, %v; want v2", got, err)
	}
}

func TestSwapMovesDomainsInOneRouteTable(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	green := &jack.Environment{AppID: h.env.AppID, Name: "green", Tier: jack.TierWeb}
	if err := h.store.CreateEnv(ctx, green); err != nil {
		t.Fatal(err)
	}
	h.deploy(jack.DeployRequest{Image: "notes:v1"})
	d, err := h.o.Deploy(ctx, jack.DeployRequest{App: "notes", Env: "green", Image: "notes:v2"})
	if err != nil {
		t.Fatal(err)
	}
	h.wait(d)
	if _, err := h.o.Edge().SetDomains(ctx, "notes", "production", []string{"www.example.com", "example.com"}, nil); err != nil {
		t.Fatal(err)
	}
	if code, body := h.getHost("WWW.example.com:8080", "/"); code != 200 || !strings.Contains(body, "version=v1") {
		t.Fatalf("www before the swap: %d %q", code, body)
	}
	if _, err := h.o.Edge().SetDomains(ctx, "notes", "green", []string{"www.example.com"}, nil); jack.ErrorCode(err) != jack.ECONFLICT {
		t.Errorf("claiming production's domain for green: %v, want ECONFLICT", err)
	}

	h.tables.tables = nil
	if err := h.o.Edge().SwapDomains(ctx, "notes", "production", "notes", "green"); err != nil {
		t.Fatal(err)
	}
	if n := len(h.tables.tables); n != 1 {
		t.Fatalf("the swap sent %d route tables, want one", n)
	}
	for _, r := range h.tables.tables[0].Routes {
		want := []string{}
		if r.Env == "notes/green" {
			want = []string{"www.example.com", "example.com"}
		}
		if got := r.Hosts[1:]; !slices.Equal(got, want) {
			t.Errorf("after the swap %s answers to %v, want %v besides its own", r.Env, got, want)
		}
	}
	if code, body := h.getHost("www.example.com", "/"); code != 200 || !strings.Contains(body, "version=v2") {
		t.Errorf("www after the swap: %d %q; want green (v2)", code, body)
	}
	if code, body := h.getHost("production.notes.localhost", "/"); code != 200 || !strings.Contains(body, "version=v1") {
		t.Errorf("the default host moved too: %d %q", code, body)
	}
	if _, err := h.o.Edge().SetDomains(ctx, "notes", "production", nil, []string{"www.example.com"}); jack.ErrorCode(err) != jack.EINVALID {
		t.Errorf("removing a domain production no longer has: %v, want EINVALID", err)
	}
	env, err := h.o.Edge().SetDomains(ctx, "notes", "green", nil, []string{"example.com"})
	if err != nil || !slices.Equal(env.Domains, []string{"www.example.com"}) {
		t.Errorf("remove: %v, %v", env, err)
	}
	if code, _ := h.getHost("example.com", "/"); code != 404 {
		t.Errorf("a removed domain answers %d, want 404", code)
	}
}

func TestEdgeSettingsReachTheRouter(t *testing.T) {
	h := newHarness(t)
	h.deploy(jack.DeployRequest{Image: "notes:v1"})
	limit := int64(16)
	env, err := h.o.Edge().SetEdge(context.Background(), "notes", "production", jack.EdgeChange{BodyLimit: &limit})
	if err != nil || env.Edge.BodyLimit != 16 {
		t.Fatalf("SetEdge: %+v, %v", env, err)
	}
	req, _ := http.NewRequest(http.MethodPost, h.front.URL+"/", strings.NewReader(strings.Repeat("x", 100)))
	req.Host = "production.notes.localhost"
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusRequestEntityTooLarge {
		t.Errorf("100 bytes past a 16-byte limit: %d, want 413", resp.StatusCode)
	}
	// A deployment ending later keeps the setting.
	h.deploy(jack.DeployRequest{Image: "notes:v2"})
	if env, _ := h.store.FindEnv(context.Background(), "notes", "production"); env.Edge.BodyLimit != 16 {
		t.Errorf("after a deploy the body limit is %d", env.Edge.BodyLimit)
	}
	if _, err := h.o.Edge().SetEdge(context.Background(), "notes", "production", jack.EdgeChange{}); jack.ErrorCode(err) != jack.EINVALID {
		t.Errorf("an empty change: %v", err)
	}
}
