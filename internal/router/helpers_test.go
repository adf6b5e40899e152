package router

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jack-paas/jack"
	"github.com/jack-paas/jack/internal/router/http1"
)

// backend is an httptest upstream that responds with its name and what it
// received.
type backend struct {
	*httptest.Server
	name     string
	requests atomic.Int64
}

// seen is what a backend responds: its name and the request it got.
type seen struct {
	Backend string      `json:"backend"`
	Host    string      `json:"host"`
	URI     string      `json:"uri"`
	Header  http.Header `json:"header"`
}

func newBackend(t testing.TB, name string) *backend {
	b := &backend{name: name}
	b.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b.requests.Add(1)
		io.Copy(io.Discard, r.Body)
		w.Header().Set("X-Backend", name)
		json.NewEncoder(w).Encode(seen{Backend: name, Host: r.Host, URI: r.RequestURI, Header: r.Header})
	}))
	t.Cleanup(b.Close)
	return b
}

// addr is the backend's host:port, as an upstream address.
func (b *backend) addr() string { return b.Listener.Addr().String() }

// upstream returns b as an upstream with ID id.
func (b *backend) upstream(id string) jack.Upstream { return jack.Upstream{ID: id, Addr: b.addr()} }

// blockingBackend holds every request until release is closed, and says on
// arrived when one comes.
type blockingBackend struct {
	*httptest.Server
	arrived  chan struct{}
	release  chan struct{}
	canceled chan struct{} // a request's context ended before release
}

func newBlockingBackend(t testing.TB) *blockingBackend {
	b := &blockingBackend{arrived: make(chan struct{}, 100), release: make(chan struct{}), canceled: make(chan struct{}, 100)}
	b.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b.arrived <- struct{}{}
		select {
		case <-b.release:
			w.Header().Set("X-Backend", "blocking")
			io.WriteString(w, "released")
		case <-r.Context().Done():
			b.canceled <- struct{}{}
		}
	}))
	t.Cleanup(func() {
		select {
		case <-b.release:
		default:
			close(b.release)
		}
		b.Close()
	})
	return b
}

func (b *blockingBackend) upstream(id string) jack.Upstream {
	return jack.Upstream{ID: id, Addr: b.Listener.Addr().String()}
}

// testFront is the router's plain HTTP server on a loopback port, in front
// of a Proxy, as Run serves it.
type testFront struct {
	URL      string
	Listener net.Listener
	server   *http1.Server
	client   *http.Client
}

// Client returns a client of the front with its own connections.
func (f *testFront) Client() *http.Client { return f.client }

// newTestProxy serves a fresh Proxy on a loopback port with the plain HTTP
// server Run uses.
func newTestProxy(t testing.TB, configure ...func(*http1.Server)) (*Proxy, *testFront) {
	p := NewProxy(nil)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	f := &testFront{URL: "http://" + ln.Addr().String(), Listener: ln, server: newPlainServer(p, slog.New(slog.DiscardHandler)),
		client: &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}}
	for _, c := range configure {
		c(f.server)
	}
	go f.server.Serve(ln)
	t.Cleanup(func() { f.server.Close(); f.client.CloseIdleConnections(); p.Close() })
	return p, f
}

// newNetHTTPProxy serves a fresh Proxy with net/http's server, as the
// HTTPS side does.
func newNetHTTPProxy(t testing.TB) (*Proxy, *httptest.Server) {
	p := NewProxy(nil)
	srv := httptest.NewServer(p)
	t.Cleanup(func() { srv.Close(); p.Close() })
	return p, srv
}

func setRoutes(t testing.TB, p *Proxy, gen int64, routes ...jack.Route) {
	t.Helper()
	if err := p.SetRoutes(context.Background(), jack.RouteTable{Generation: gen, Routes: routes}); err != nil {
		t.Fatalf("set routes: %v", err)
	}
}

func newRoute(env string, hosts []string, ups ...jack.Upstream) jack.Route {
	return jack.Route{Env: env, Hosts: hosts, Upstreams: ups}
}

// get sends a GET for host to the proxy at base and returns the status and
// body.
func get(t testing.TB, client *http.Client, base, host string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, base+"/", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Host = host
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", host, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

// backendOf returns the backend name in a proxied response.
func backendOf(t testing.TB, body string) string {
	t.Helper()
	var s seen
	if err := json.Unmarshal([]byte(body), &s); err != nil {
		t.Fatalf("response %q is not from a backend: %v", body, err)
	}
	return s.Backend
}

// waitFor polls cond until it holds or the deadline passes.
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// deadAddr returns a loopback address nothing listens on.
func deadAddr(t testing.TB) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

func containsAll(s string, parts ...string) bool {
	for _, p := range parts {
		if !strings.Contains(s, p) {
			return false
		}
	}
	return true
}
