package e2e

import (
	"bufio"
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jack-paas/jack/internal/dockertest"
	"github.com/jack-paas/jack/internal/router"
)

// staticImage builds the test app with static files whose contents name
// the version.
func staticImage(t *testing.T, d *daemon, version string) string {
	t.Helper()
	tag := "jack-e2e-static:" + version
	dockertest.BuildGoImageWithFiles(t, d.cli, testapp, tag, []dockertest.ImageFile{
		{Name: "/app/static/css/app.3f9a2c1e.css", Body: "body{} /* " + version + " */"},
		{Name: "/app/static/robots.txt", Body: "robots " + version},
	}, "EXPOSE 8080", "ENV APP_VERSION="+version)
	return tag
}

func TestEdgeWalkthrough(t *testing.T) {
	d := startDaemon(t)
	v1, v2 := staticImage(t, d, "v1"), staticImage(t, d, "v2")
	manifest := filepath.Join(t.TempDir(), "jack.yaml")
	os.WriteFile(manifest, []byte("static:\n  - {url: /static/, path: /app/static}\n"), 0o644)

	d.ok("apps", "create", "shop")
	d.ok("envs", "create", "shop/blue", "--domain", "www.shop.example")
	d.ok("envs", "create", "shop/green")
	d.ok("deploy", "shop/blue", "--image", v1, "-f", manifest)
	d.ok("deploy", "shop/green", "--image", v2, "-f", manifest)

	// Static files of the version, with validators and long caching.
	req, _ := http.NewRequest("GET", "http://"+d.http+"/static/css/app.3f9a2c1e.css", nil)
	req.Host = "WWW.shop.example"
	resp, err := httpClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("Cache-Control") != "public, max-age=31536000, immutable" || resp.Header.Get("Etag") == "" {
		t.Fatalf("static file: %d %v", resp.StatusCode, resp.Header)
	}
	req.Header.Set("If-None-Match", resp.Header.Get("Etag"))
	if resp, err := httpClient.Do(req); err != nil || resp.StatusCode != 304 {
		t.Errorf("conditional GET: %v, %v; want 304", resp, err)
	}
	if b := d.body("www.shop.example", "/static/robots.txt"); b != "robots v1" {
		t.Errorf("blue's robots.txt = %q", b)
	}
	if b := d.body("www.shop.example", "/"); !strings.Contains(b, "version=v1") {
		t.Errorf("blue's app: %q", b)
	}

	// Domains: add, list, swap.
	d.ok("domains", "add", "shop/green", "next.shop.example")
	if out := d.ok("domains", "shop/blue"); !strings.Contains(out, "www.shop.example") {
		t.Errorf("jack domains shop/blue:\n%s", out)
	}
	if b := d.body("next.shop.example", "/static/robots.txt"); b != "robots v2" {
		t.Errorf("green by its new domain: %q", b)
	}
	if r := d.jack("domains", "add", "shop/blue", "next.shop.example"); r.code != 1 || !strings.Contains(r.stderr, "already used by shop/green") || strings.Count(strings.TrimSpace(r.stderr), "\n") != 0 {
		t.Errorf("claiming green's domain for blue: exit %d, %q", r.code, r.stderr)
	}
	if r := d.jack("domains", "add", "shop/blue", "not a domain"); r.code != 2 {
		t.Errorf("a bad domain: exit %d, %q", r.code, r.stderr)
	}
	out := d.ok("envs", "swap", "shop/blue", "shop/green")
	if !strings.Contains(out, "shop/green answers to www.shop.example") || !strings.Contains(out, "shop/blue answers to next.shop.example") {
		t.Errorf("swap output:\n%s", out)
	}
	if b := d.body("www.shop.example", "/static/robots.txt"); b != "robots v2" {
		t.Errorf("www after the swap: %q; want green's files", b)
	}
	if b := d.body("next.shop.example", "/"); !strings.Contains(b, "version=v1") {
		t.Errorf("next after the swap: %q; want blue", b)
	}
	if r := d.jack("envs", "swap", "shop/blue", "shop/blue"); r.code != 1 || !strings.Contains(r.stderr, "can't swap domains with itself") {
		t.Errorf("swap with itself: exit %d, %q", r.code, r.stderr)
	}

	// Edge settings: a body limit.
	out = d.ok("envs", "set", "shop/blue", "--body-limit", "1k")
	if !strings.Contains(out, "body limit 1 KiB") {
		t.Errorf("envs set output: %q", out)
	}
	post, _ := http.NewRequest("POST", "http://"+d.http+"/", strings.NewReader(strings.Repeat("x", 4096)))
	post.Host = "next.shop.example"
	if resp, err := httpClient.Do(post); err != nil || resp.StatusCode != http.StatusRequestEntityTooLarge {
		t.Errorf("4 KiB to a 1 KiB limit: %v, %v; want 413", resp, err)
	}
	if r := d.jack("envs", "set", "shop/blue", "--body-limit", "lots"); r.code != 2 {
		t.Errorf("a bad size: exit %d", r.code)
	}

	// Unknown hosts get the router's 404 page.
	if code, body, _ := d.get("nobody.example", "/"); code != 404 || !strings.Contains(body, "No app is served at nobody.example") {
		t.Errorf("unknown host: %d %q", code, body)
	}

	// Every request is in the access log (written in batches, 50 ms apart).
	var envs map[string]int
	eventually(t, "the access log to name both environments and unknown hosts", 5*time.Second, func() bool {
		envs = accessLogByEnv(t, filepath.Join(d.data, "router-access.ndjson"))
		return envs["shop/blue"] > 0 && envs["shop/green"] > 0 && envs[""] > 0
	})
}

// accessLogByEnv counts the router's access log records by environment.
func accessLogByEnv(t *testing.T, path string) map[string]int {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		return nil
	}
	defer f.Close()
	envs := map[string]int{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var rec struct{ Env, Path string }
		if err := json.Unmarshal(sc.Bytes(), &rec); err != nil {
			t.Errorf("access log line %q: %v", sc.Text(), err)
		}
		envs[rec.Env]++
	}
	return envs
}

// An upgrade of Jack replaces the router with the new binary's, which takes
// over the listening socket: no request fails.
func TestUpgradingJackDropsNoRequest(t *testing.T) {
	next := filepath.Join(t.TempDir(), "jack-next")
	build := exec.Command("go", "build", "-o", next, "-ldflags", "-X github.com/jack-paas/jack.BuildVersion=e2e-next", "github.com/jack-paas/jack/cmd/jack")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build the next jack: %v\n%s", err, out)
	}
	d := startDaemon(t)
	images(t, d.cli)
	d.ok("apps", "create", "notes")
	d.ok("envs", "create", "notes/production")
	d.ok("deploy", "notes/production", "--image", "jack-e2e-app:v1")
	rc := router.NewClient(router.SocketPath(d.data))
	defer rc.Close()
	before, err := rc.Status(t.Context())
	if err != nil {
		t.Fatal(err)
	}

	l := d.load(host, 8)
	time.Sleep(300 * time.Millisecond)
	d.stop()
	d.bin = next
	d.start() // the new daemon replaces the router
	after, err := rc.Status(t.Context())
	if err != nil || after.Version != "e2e-next" || after.PID == before.PID {
		t.Fatalf("router after the upgrade: %+v, %v (before: pid %d, %s)", after, err, before.PID, before.Version)
	}
	time.Sleep(500 * time.Millisecond)
	eventually(t, "the old router to exit", 40*time.Second, func() bool {
		return !processAlive(before.PID)
	})
	l.end(t)
}

func processAlive(pid int) bool {
	data, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "stat"))
	if err != nil {
		return false
	}
	s := string(data)
	i := strings.LastIndexByte(s, ')')
	return i < 0 || i+2 >= len(s) || s[i+2] != 'Z'
}
