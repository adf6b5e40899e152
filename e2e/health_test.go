package e2e

import (
	"crypto/hmac"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	jack "github.com/jack-paas/jack"
	"github.com/jack-paas/jack/internal/notify"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// healthOf returns `jack health REF --json`.
func (d *daemon) healthOf(ref string) *jack.Health {
	d.t.Helper()
	var h jack.Health
	if err := json.Unmarshal([]byte(d.ok("health", ref, "--json")), &h); err != nil {
		d.t.Fatalf("jack health --json: %v", err)
	}
	return &h
}

// waitHealth polls an environment's health until it is state ("" for any)
// with a cause that contains cause.
func (d *daemon) waitHealth(t *testing.T, ref, state, cause string, timeout time.Duration) *jack.Health {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		h := d.healthOf(ref)
		if (state == "" || h.State == state) && strings.Contains(strings.Join(h.Causes, "\n"), cause) {
			return h
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: health %s %q; want %s with a cause containing %q", ref, h.State, h.Causes, state, cause)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// hookReceiver is a webhook endpoint that checks signatures, fails the
// first delivery it gets (to see a retry) and keeps the rest.
type hookReceiver struct {
	secret   string
	mu       sync.Mutex
	requests int
	bad      int
	got      []notify.Payload
}

func (h *hookReceiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	h.mu.Lock()
	defer h.mu.Unlock()
	h.requests++
	if h.secret == "" || !hmac.Equal([]byte(r.Header.Get(notify.SignatureHeader)), []byte(notify.Sign(h.secret, body))) {
		h.bad++
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	if h.requests == 1 {
		w.WriteHeader(http.StatusServiceUnavailable) // the sender must try again
		return
	}
	var p notify.Payload
	json.Unmarshal(body, &p)
	h.got = append(h.got, p)
}

func (h *hookReceiver) texts() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []string
	for _, p := range h.got {
		out = append(out, p.Event+": "+p.Text)
	}
	return out
}

// Real containers driven into each health state: failing health checks,
// a crash loop, 5xx answers, memory near its limit; each with its cause in
// words, in `jack health`, `jack status`, /metrics, StatsD and a webhook.
func TestHealthStatesOfRealContainers(t *testing.T) {
	statsd, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer statsd.Close()
	metricsAddr := freePort(t)
	d := startDaemon(t, "--metrics-interval", "1s", "--health-memory", "80",
		"--metrics", metricsAddr, "--statsd", statsd.LocalAddr().String())
	buildImage(t, d.cli, "jack-e2e-app:v1", "ENV APP_VERSION=v1")
	d.ok("apps", "create", "shop")
	manifest := filepath.Join(t.TempDir(), "jack.yaml")
	os.WriteFile(manifest, []byte("processes:\n  web:\n    instances: 2\n    memory: 64m\n    health: {path: /health, interval: 300ms, timeout: 2s}\n"), 0o644)

	recv := &hookReceiver{}
	hooks := httptest.NewServer(recv)
	defer hooks.Close()
	d.ok("envs", "create", "shop/checks")
	out := d.ok("hooks", "add", "shop/checks", hooks.URL+"/jack")
	_, secret, ok := strings.Cut(out, "X-Jack-Signature-256 with it): ")
	if !ok {
		t.Fatalf("hooks add printed no secret:\n%s", out)
	}
	recv.mu.Lock()
	recv.secret = strings.TrimSpace(secret)
	recv.mu.Unlock()

	for _, env := range []string{"crash", "errors", "memory"} {
		d.ok("envs", "create", "shop/"+env)
	}
	d.ok("config", "set", "shop/crash", "EXIT_AFTER=1500ms")
	for _, env := range []string{"checks", "crash", "errors", "memory"} {
		d.ok("deploy", "shop/"+env, "--image", "jack-e2e-app:v1", "-f", manifest)
	}
	d.waitHealth(t, "shop/checks", "ok", "", 20*time.Second)

	t.Run("failing health checks", func(t *testing.T) {
		addr := instanceAddr(t, d, "shop/checks", "web.1")
		mustGet(t, "http://"+addr+"/sick?on=1")
		h := d.waitHealth(t, "shop/checks", "degraded", "1 of 2 web instances failing health checks (GET /health answered 500)", 20*time.Second)
		for _, in := range h.Instances {
			if in.Name == "web.1" && (in.State != "unhealthy" || in.LastCheck.IsZero() || in.CheckLatency == 0) {
				t.Errorf("web.1 in jack health: %+v", in)
			}
		}
		if st := d.ok("status", "shop/checks"); !strings.Contains(st, "Health:") || !strings.Contains(st, "degraded: 1 of 2 web instances failing health checks") {
			t.Errorf("jack status lacks the health headline:\n%s", st)
		}
		if text := d.ok("health", "shop/checks"); !strings.Contains(text, "DEGRADED") || !strings.Contains(text, "unhealthy") {
			t.Errorf("jack health:\n%s", text)
		}
		eventually(t, "the transition in jack events", 10*time.Second, func() bool {
			return strings.Contains(d.ok("events", "shop/checks"), "Health is degraded (was ok): 1 of 2 web instances failing health checks")
		})
		mustGet(t, "http://"+addr+"/sick?on=0")
		d.waitHealth(t, "shop/checks", "ok", "", 20*time.Second)
	})

	t.Run("health --watch", func(t *testing.T) {
		cmd := exec.Command(jackBin, "health", "shop/checks", "--watch", "--interval", "200ms")
		cmd.Env = append(os.Environ(), "HOME="+d.home, "XDG_CONFIG_HOME="+d.home, "JACK_API=http://"+d.api, "JACK_TOKEN="+d.token)
		var out syncBuffer
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		defer cmd.Process.Kill()
		eventually(t, "three refreshes", 10*time.Second, func() bool { return strings.Count(out.String(), "shop/checks: OK") >= 3 })
		cmd.Process.Signal(syscall.SIGINT)
		if err := cmd.Wait(); err != nil {
			t.Errorf("jack health --watch ended with %v on SIGINT; want 0:\n%s", err, out.String())
		}
	})

	t.Run("crash loop", func(t *testing.T) {
		// Degraded, or severe at the moments when both instances are down.
		h := d.waitHealth(t, "shop/crash", "", "times in the last 10 minutes (crash loop); the last one exited with code 3", 90*time.Second)
		if h.State != "degraded" && h.State != "severe" {
			t.Errorf("crash loop: health %s; want degraded or severe", h.State)
		}
	})

	t.Run("5xx answers", func(t *testing.T) {
		for i := range 40 {
			path := "/"
			if i%3 == 0 {
				path = "/code/500" // 14 of 40: 35%
			}
			d.get("errors.shop.localhost", path)
		}
		h := d.waitHealth(t, "shop/errors", "severe", "of requests in the last minute answered 5xx (14 of 40)", 20*time.Second)
		if h.Requests != 40 || h.ErrorShare < 0.34 || h.ErrorShare > 0.36 {
			t.Errorf("last minute: %d requests, %.3f 5xx; want 40 and 0.35", h.Requests, h.ErrorShare)
		}
	})

	t.Run("memory near its limit", func(t *testing.T) {
		addr := instanceAddr(t, d, "shop/memory", "web.2")
		mustGet(t, "http://"+addr+"/alloc?mb=54")
		d.waitHealth(t, "shop/memory", "warning", "web.2 uses", 20*time.Second)
		h := d.healthOf("shop/memory")
		if c := strings.Join(h.Causes, "\n"); !strings.Contains(c, "of its 64 MiB memory limit") {
			t.Errorf("memory cause: %q", c)
		}
	})

	t.Run("prometheus", func(t *testing.T) {
		// Without a token on --metrics; with the admin token on the API.
		families := scrape(t, "http://"+metricsAddr+"/metrics", "")
		apiFamilies := scrape(t, "http://"+d.api+"/metrics", d.token)
		if len(apiFamilies) == 0 {
			t.Error("the API's /metrics is empty")
		}
		found := false
		for _, m := range families["container_memory_working_set_bytes"].GetMetric() {
			l := labels(m)
			if l["app"] == "shop" && l["env"] == "memory" && l["process"] == "web" && l["instance"] == "web.2" {
				found = m.GetGauge().GetValue() > 54<<20
			}
		}
		if !found {
			t.Error("no container_memory_working_set_bytes{app=shop,env=memory,process=web,instance=web.2} above 54 MiB")
		}
		var fiveXX float64
		for _, m := range families["jack_http_requests_total"].GetMetric() {
			if l := labels(m); l["env"] == "errors" && l["code"] == "5xx" {
				fiveXX += m.GetCounter().GetValue()
			}
		}
		if fiveXX != 14 {
			t.Errorf("jack_http_requests_total{env=errors,code=5xx} sums to %v; want 14", fiveXX)
		}
		for _, name := range []string{"container_cpu_usage_seconds_total", "jack_http_request_duration_seconds", "jack_deployments_total", "jack_environment_health"} {
			if families[name] == nil {
				t.Errorf("/metrics has no %s", name)
			}
		}
		if code := httpStatus(t, "http://"+d.api+"/metrics", ""); code != http.StatusUnauthorized {
			t.Errorf("the API's /metrics without a token answered %d", code)
		}
	})

	t.Run("statsd", func(t *testing.T) {
		statsd.SetReadDeadline(time.Now().Add(10 * time.Second))
		buf := make([]byte, 64<<10)
		var got strings.Builder
		want := "jack.instance.memory.working_set:"
		for !strings.Contains(got.String(), want) || !strings.Contains(got.String(), "#app:shop,env:checks,process:web,instance:web.1") {
			n, _, err := statsd.ReadFrom(buf)
			if err != nil {
				t.Fatalf("read StatsD: %v; got:\n%.2000s", err, got.String())
			}
			got.Write(buf[:n])
			got.WriteByte('\n')
		}
	})

	t.Run("webhooks", func(t *testing.T) {
		deadline := time.Now().Add(30 * time.Second)
		for {
			all := strings.Join(recv.texts(), "\n")
			if strings.Contains(all, "deploy.succeeded: shop/checks: deployment") &&
				strings.Contains(all, "health.changed: shop/checks health is degraded (was ok): 1 of 2 web instances failing health checks") &&
				strings.Contains(all, "health.changed: shop/checks health is ok (was degraded)") {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("deliveries lack the deploy and health events; got:\n%s\n%s", all, d.ok("hooks", "deliveries", "shop/checks"))
			}
			time.Sleep(100 * time.Millisecond)
		}
		recv.mu.Lock()
		bad, requests := recv.bad, recv.requests
		recv.mu.Unlock()
		if bad != 0 {
			t.Errorf("%d deliveries with a wrong signature", bad)
		}
		list := d.ok("hooks", "deliveries", "shop/checks")
		if !strings.Contains(list, "delivered (200) after 2 attempts") {
			t.Errorf("the first delivery, refused once, is not shown retried (%d requests):\n%s", requests, list)
		}
		if l := d.ok("hooks", "list", "shop/checks"); !strings.Contains(l, hooks.URL+"/jack") {
			t.Errorf("hooks list:\n%s", l)
		}
		d.ok("hooks", "remove", "shop/checks", hooks.URL+"/jack")
		if l := d.ok("hooks", "list", "shop/checks"); !strings.Contains(l, "No webhooks") {
			t.Errorf("after remove:\n%s", l)
		}
	})

	t.Run("bad input", func(t *testing.T) {
		r := d.jack("hooks", "add", "shop/checks", "ftp://example.com/x")
		if r.code != 2 || !strings.Contains(r.stderr, "is not an http(s) URL") || strings.Count(strings.TrimSpace(r.stderr), "\n") != 0 {
			t.Errorf("ftp webhook: exit %d, %q", r.code, r.stderr)
		}
		for _, args := range [][]string{
			{"server", "--statsd", "nowhere.invalid:8125"},
			{"server", "--health-cpu", "lots"},
			{"server", "--health-p95", "fast"},
		} {
			r := d.jack(args...)
			if r.code != 2 || strings.Count(strings.TrimSpace(r.stderr), "\n") != 0 || !strings.Contains(r.stderr, args[1]) {
				t.Errorf("jack %s: exit %d, %q; want 2 and one line naming the flag", strings.Join(args, " "), r.code, r.stderr)
			}
		}
	})
}

// instanceAddr returns the address of an environment's instance.
func instanceAddr(t *testing.T, d *daemon, ref, name string) string {
	t.Helper()
	var list []jack.Instance
	if err := json.Unmarshal([]byte(d.ok("ps", ref, "--json")), &list); err != nil {
		t.Fatal(err)
	}
	for _, in := range list {
		if in.Name == name && in.Address != "" {
			return in.Address
		}
	}
	t.Fatalf("%s has no instance %s: %+v", ref, name, list)
	return ""
}

func mustGet(t *testing.T, url string) {
	t.Helper()
	if code := httpStatus(t, url, ""); code != 200 {
		t.Fatalf("GET %s = %d", url, code)
	}
}

func httpStatus(t *testing.T, url, token string) int {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := httpClient.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

// scrape parses a /metrics answer with Prometheus's text parser.
func scrape(t *testing.T, url, token string) map[string]*dtoFamily {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := httpClient.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("GET %s = %d", url, resp.StatusCode)
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(resp.Body)
	if err != nil {
		t.Fatalf("parse %s: %v", url, err)
	}
	return families
}

func labels(m *dtoMetric) map[string]string {
	out := map[string]string{}
	for _, l := range m.GetLabel() {
		out[l.GetName()] = l.GetValue()
	}
	return out
}
