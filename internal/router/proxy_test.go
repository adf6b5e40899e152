package router

import (
	"encoding/json"
	"io"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/jack-paas/jack"
)

func TestProxyRoutesByHost(t *testing.T) {
	exact, wide, eu := newBackend(t, "exact"), newBackend(t, "wide"), newBackend(t, "eu")
	p, srv := newTestProxy(t)
	setRoutes(t, p, 1,
		newRoute("shop/prod", []string{"app.example.com"}, exact.upstream("e1")),
		newRoute("shop/wide", []string{"*.example.com"}, wide.upstream("w1")),
		newRoute("shop/eu", []string{"*.EU.example.com"}, eu.upstream("u1")),
	)
	for host, want := range map[string]string{
		"app.example.com":       "exact",
		"APP.Example.COM:8080":  "exact",
		"app.example.com.":      "exact",
		"x.example.com":         "wide",
		"a.b.example.com":       "wide",
		"x.eu.example.com":      "eu",
		"a.b.eu.example.com:80": "eu",
		"eu.example.com":        "wide",
	} {
		status, body := get(t, srv.Client(), srv.URL, host)
		if status != http.StatusOK {
			t.Errorf("%s: status %d, body %q", host, status, body)
			continue
		}
		if got := backendOf(t, body); got != want {
			t.Errorf("%s went to %s, want %s", host, got, want)
		}
	}
}

func TestProxyRespondsToUnknownHostWith404(t *testing.T) {
	b := newBackend(t, "b")
	p, srv := newTestProxy(t)
	setRoutes(t, p, 1, newRoute("shop/prod", []string{"*.example.com"}, b.upstream("b1")))
	for _, host := range []string{"other.org", "example.com", "Other.ORG:8080"} {
		status, body := get(t, srv.Client(), srv.URL, host)
		if status != http.StatusNotFound {
			t.Errorf("%s: status %d, want 404", host, status)
		}
		want := "No app is served at " + canonicalHost(host) + ". Check the domain or `jack envs`."
		if !strings.Contains(body, want) {
			t.Errorf("%s: body %q, want %q", host, body, want)
		}
	}
	if n := b.requests.Load(); n != 0 {
		t.Errorf("backend got %d requests for unknown hosts", n)
	}
}

func TestProxyRespondsToRouteWithoutUpstreamWith503(t *testing.T) {
	p, srv := newTestProxy(t)
	setRoutes(t, p, 1, newRoute("shop/prod", []string{"shop.test"}))
	resp, err := srv.Client().Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Fatalf("request for %s: status %d, want 404", srv.Listener.Addr(), resp.StatusCode)
	}
	req, _ := http.NewRequest(http.MethodGet, srv.URL, nil)
	req.Host = "shop.test"
	resp, err = srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("status %d, want 503", resp.StatusCode)
	}
	if got := resp.Header.Get("Retry-After"); got != "5" {
		t.Errorf("Retry-After %q, want 5", got)
	}
	if !strings.Contains(string(body), "shop.test has no running web instance") {
		t.Errorf("body %q", body)
	}
}

func TestProxySetsForwardingHeaders(t *testing.T) {
	b := newBackend(t, "b")
	p, srv := newTestProxy(t)
	setRoutes(t, p, 1, newRoute("shop/prod", []string{"shop.test"}, b.upstream("b1")))

	send := func(header http.Header) seen {
		t.Helper()
		req, _ := http.NewRequest(http.MethodGet, srv.URL+"/cart?a=1;b=2&c", nil)
		req.Host = "Shop.test:8080"
		for k, v := range header {
			req.Header[k] = v
		}
		resp, err := srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var s seen
		if err := json.NewDecoder(resp.Body).Decode(&s); err != nil {
			t.Fatal(err)
		}
		return s
	}

	s := send(nil)
	if s.Host != "Shop.test:8080" {
		t.Errorf("upstream saw Host %q, want the client's", s.Host)
	}
	if s.URI != "/cart?a=1;b=2&c" {
		t.Errorf("upstream saw %q, want the path and query untouched", s.URI)
	}
	if got := s.Header.Get("X-Forwarded-For"); got != "127.0.0.1" {
		t.Errorf("X-Forwarded-For %q, want 127.0.0.1", got)
	}
	if got := s.Header.Get("X-Forwarded-Proto"); got != "http" {
		t.Errorf("X-Forwarded-Proto %q, want http", got)
	}
	if got := s.Header.Get("X-Forwarded-Host"); got != "Shop.test:8080" {
		t.Errorf("X-Forwarded-Host %q", got)
	}
	id := s.Header.Get("X-Request-Id")
	if !regexp.MustCompile(`^[0-9a-f]{32}$`).MatchString(id) {
		t.Errorf("X-Request-Id %q, want 32 hex digits", id)
	}
	if again := send(nil).Header.Get("X-Request-Id"); again == id {
		t.Errorf("two requests got the same id %q", id)
	}

	s = send(http.Header{"X-Request-Id": {"req-42"}, "X-Forwarded-For": {"203.0.113.7"}})
	if got := s.Header.Get("X-Request-Id"); got != "req-42" {
		t.Errorf("X-Request-Id %q, want the client's req-42", got)
	}
	if got := s.Header.Get("X-Forwarded-For"); got != "203.0.113.7, 127.0.0.1" {
		t.Errorf("X-Forwarded-For %q, want the client's with ours appended", got)
	}
}

func TestProxyPrefersLeastOutstandingUpstream(t *testing.T) {
	slow := newBlockingBackend(t)
	fast := newBackend(t, "fast")
	p, srv := newTestProxy(t)
	setRoutes(t, p, 1, newRoute("shop/prod", []string{"shop.test"}, slow.upstream("slow"), fast.upstream("fast")))

	const requests = 20
	var wg sync.WaitGroup
	var slowArrived atomic.Int64
	for i := range requests {
		wg.Go(func() {
			status, _ := get(t, srv.Client(), srv.URL, "shop.test")
			if status != http.StatusOK {
				t.Errorf("status %d", status)
			}
		})
		// Send one request at a time: wait until this one reached the slow
		// backend or got its response from the fast one.
		waitFor(t, "the request to reach a backend", func() bool {
			select {
			case <-slow.arrived:
				slowArrived.Add(1)
			default:
			}
			return slowArrived.Load()+fast.requests.Load() == int64(i+1) && p.InFlight("fast") == 0
		})
	}
	close(slow.release)
	wg.Wait()
	// Round-robin would send half to the slow one; once it holds a request,
	// the fast one (with none) gets every other.
	if n := slowArrived.Load(); n != 1 {
		t.Errorf("slow upstream got %d of %d requests, want 1", n, requests)
	}
}

func TestProxyTableSwapUnderLoadDropsNothing(t *testing.T) {
	a, b := newBackend(t, "a"), newBackend(t, "b")
	p, srv := newTestProxy(t)
	tables := []jack.Route{
		newRoute("shop/prod", []string{"shop.test"}, a.upstream("a")),
		newRoute("shop/prod", []string{"shop.test"}, b.upstream("b")),
	}
	// epoch is odd while a swap is under way; at even epoch e the table in
	// force is tables[(e/2)%2].
	var epoch atomic.Int64
	setRoutes(t, p, 1, tables[0])

	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 16}}
	defer client.CloseIdleConnections()
	stop := make(chan struct{})
	var wg sync.WaitGroup
	var served, failed atomic.Int64
	for range 8 {
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				before := epoch.Load()
				req, _ := http.NewRequest(http.MethodGet, srv.URL, nil)
				req.Host = "shop.test"
				resp, err := client.Do(req)
				if err != nil {
					failed.Add(1)
					t.Errorf("request failed: %v", err)
					return
				}
				body, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				after := epoch.Load()
				if resp.StatusCode != http.StatusOK {
					failed.Add(1)
					t.Errorf("status %d: %s", resp.StatusCode, body)
					return
				}
				served.Add(1)
				got := backendOf(t, string(body))
				if want := tables[(before/2)%2].Upstreams[0].ID; before == after && before%2 == 0 && got != want {
					t.Errorf("served by %s while only %s was in the table", got, want)
					return
				}
			}
		})
	}
	for i := int64(1); i <= 200; i++ {
		epoch.Add(1)
		setRoutes(t, p, i+1, tables[i%2])
		epoch.Add(1)
		target := served.Load() + 5
		waitFor(t, "requests on the new table", func() bool { return served.Load() >= target || failed.Load() > 0 })
	}
	close(stop)
	wg.Wait()
	if failed.Load() != 0 {
		t.Fatalf("%d requests failed", failed.Load())
	}
}
