package router

import (
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/jack-paas/jack"
)

// BenchmarkProxy measures parallel GETs through the proxy to a small
// backend, over real loopback connections (client, proxy and backend all in
// this process, so allocations count all three).
func BenchmarkProxy(b *testing.B) {
	backend := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "ok")
	}))
	defer backend.Close()
	p, srv := newTestProxy(b)
	setRoutes(b, p, 1,
		newRoute("shop/prod", []string{"shop.test"},
			jack.Upstream{ID: "b1", Addr: backend.Listener.Addr().String()},
			jack.Upstream{ID: "b2", Addr: backend.Listener.Addr().String()}))
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 256}}
	defer client.CloseIdleConnections()

	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		req, _ := http.NewRequest(http.MethodGet, srv.URL+"/", nil)
		req.Host = "shop.test"
		for pb.Next() {
			resp, err := client.Do(req)
			if err != nil {
				b.Error(err)
				return
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				b.Errorf("status %d", resp.StatusCode)
				return
			}
		}
	})
}

// BenchmarkLookup measures finding the route of a wildcard host in a table
// of 1,000 hosts.
func BenchmarkLookup(b *testing.B) {
	var routes []jack.Route
	for i := range 1000 {
		routes = append(routes, jack.Route{Env: fmt.Sprintf("app%d/prod", i), Hosts: []string{fmt.Sprintf("app%d.example.com", i)}})
	}
	for i := range 20 {
		routes = append(routes, jack.Route{Env: fmt.Sprintf("wild%d/prod", i), Hosts: []string{fmt.Sprintf("*.w%d.example.org", i)}})
	}
	tbl, err := compileTable(jack.RouteTable{Routes: routes}, newRegistry(func(addr string) *connPool { return newConnPool(addr, nil) }), newStaticFiles(slog.New(slog.DiscardHandler)))
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if tbl.lookup(canonicalHost("Shop.W19.example.org:8080")) == nil {
			b.Fatal("no route")
		}
	}
}
