package router

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
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

// BenchmarkStatic measures parallel GETs of a 10 KiB static file over real
// loopback keep-alive connections. The client writes fixed request bytes
// and reads responses without allocating, so allocs/op are the router's own:
// they are what decides how often its GC runs under load, and so its tail.
func BenchmarkStatic(b *testing.B) {
	dir := b.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "app.css"), bytes.Repeat([]byte("a{b:c}\n"), 10240/7), 0o644); err != nil {
		b.Fatal(err)
	}
	p, srv := newTestProxy(b)
	setRoutes(b, p, 1, jack.Route{Env: "shop/prod", Hosts: []string{"shop.test"},
		Static: []jack.StaticMount{{URL: "/static/", Dir: dir}}})
	benchRaw(b, srv.Listener.Addr().String(), "GET /static/app.css HTTP/1.1\r\nHost: shop.test\r\nUser-Agent: wrk\r\n\r\n")
}

// BenchmarkProxyRaw is BenchmarkProxy with a raw client and a raw backend,
// so that allocs/op are the router's alone.
func BenchmarkProxyRaw(b *testing.B) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	defer ln.Close()
	go serveRaw(ln, "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 13\r\n\r\nHello, world!")
	p, srv := newTestProxy(b)
	setRoutes(b, p, 1, newRoute("shop/prod", []string{"shop.test"}, jack.Upstream{ID: "b1", Addr: ln.Addr().String()}))
	benchRaw(b, srv.Listener.Addr().String(), "GET / HTTP/1.1\r\nHost: shop.test\r\nUser-Agent: wrk\r\n\r\n")
}

// benchRaw sends request on parallel keep-alive connections to addr and
// reads each response (which must be a 200 with a Content-Length).
func benchRaw(b *testing.B, addr, request string) {
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		conn, err := net.Dial("tcp", addr)
		if err != nil {
			b.Error(err)
			return
		}
		defer conn.Close()
		br := bufio.NewReaderSize(conn, 64<<10)
		req := []byte(request)
		for pb.Next() {
			if _, err := conn.Write(req); err != nil {
				b.Error(err)
				return
			}
			if err := readRawResponse(br); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// readRawResponse reads one response with a Content-Length off br, allocating
// nothing.
func readRawResponse(br *bufio.Reader) error {
	length := -1
	for first := true; ; first = false {
		line, err := br.ReadSlice('\n')
		if err != nil {
			return err
		}
		if first && !bytes.HasPrefix(line, []byte("HTTP/1.1 200 ")) {
			return fmt.Errorf("response %q", line)
		}
		if len(line) <= 2 {
			break
		}
		if k, v, ok := bytes.Cut(line, []byte(":")); ok && len(k) == len("Content-Length") && bytes.EqualFold(k, []byte("Content-Length")) {
			length = 0
			for _, c := range bytes.TrimSpace(v) {
				length = 10*length + int(c-'0')
			}
		}
	}
	if length < 0 {
		return fmt.Errorf("response without a Content-Length")
	}
	_, err := br.Discard(length)
	return err
}

// serveRaw responds to every request on ln's connections with response, reading
// requests without a body.
func serveRaw(ln net.Listener, response string) {
	for {
		conn, err := ln.Accept()
		if err != nil {
			return
		}
		go func() {
			defer conn.Close()
			br := bufio.NewReader(conn)
			out := []byte(response)
			for {
				for {
					line, err := br.ReadSlice('\n')
					if err != nil {
						return
					}
					if len(line) <= 2 {
						break
					}
				}
				if _, err := conn.Write(out); err != nil {
					return
				}
			}
		}()
	}
}
