package router

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/jack-paas/jack"
)

func TestProxyRetriesWhenUpstreamRefusesConnections(t *testing.T) {
	live := newBackend(t, "live")
	p, srv := newTestProxy(t)
	dead := jack.Upstream{ID: "dead", Addr: deadAddr(t)}
	setRoutes(t, p, 1, newRoute("shop/prod", []string{"shop.test"}, dead, live.upstream("live")))

	for i := range 20 {
		method := http.MethodGet
		if i%2 == 1 {
			method = http.MethodPost // no body: safe to send again
		}
		req, _ := http.NewRequest(method, srv.URL, nil)
		req.Host = "shop.test"
		resp, err := srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || backendOf(t, string(body)) != "live" {
			t.Fatalf("%s %d: status %d, body %q", method, i, resp.StatusCode, body)
		}
	}
	if n := p.InFlight("dead"); n != 0 {
		t.Errorf("dead upstream left with %d in flight", n)
	}
}

func TestProxyRetriesWhenUpstreamDiesWithPooledConnections(t *testing.T) {
	a, b := newBackend(t, "a"), newBackend(t, "b")
	p, srv := newTestProxy(t)
	setRoutes(t, p, 1, newRoute("shop/prod", []string{"shop.test"}, a.upstream("a"), b.upstream("b")))
	for range 10 {
		if status, _ := get(t, srv.Client(), srv.URL, "shop.test"); status != http.StatusOK {
			t.Fatalf("status %d", status)
		}
	}
	if a.requests.Load() == 0 {
		t.Fatal("a got no request; the test needs connections to it in the pool")
	}
	a.Close() // as if killed: its listener and connections are gone
	for i := range 20 {
		status, body := get(t, srv.Client(), srv.URL, "shop.test")
		if status != http.StatusOK || backendOf(t, body) != "b" {
			t.Fatalf("request %d after a died: status %d, body %q", i, status, body)
		}
	}
}

func TestProxyRetriesGetWhenUpstreamDropsTheConnection(t *testing.T) {
	live := newBackend(t, "live")
	var dropped atomic.Int64
	dropper := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		dropped.Add(1)
		conn, _, err := w.(http.Hijacker).Hijack()
		if err == nil {
			conn.Close() // dies before responding
		}
	}))
	defer dropper.Close()
	p, srv := newTestProxy(t)
	setRoutes(t, p, 1, newRoute("shop/prod", []string{"shop.test"},
		jack.Upstream{ID: "dropper", Addr: dropper.Listener.Addr().String()}, live.upstream("live")))
	for i := range 10 {
		status, body := get(t, srv.Client(), srv.URL, "shop.test")
		if status != http.StatusOK || backendOf(t, body) != "live" {
			t.Fatalf("GET %d: status %d, body %q", i, status, body)
		}
	}
	if dropped.Load() == 0 {
		t.Error("no request went to the dropping upstream; the test proves nothing")
	}
}

func TestProxyResponds502WhenNoUpstreamResponds(t *testing.T) {
	p, srv := newTestProxy(t)
	setRoutes(t, p, 1, newRoute("shop/prod", []string{"shop.test"},
		jack.Upstream{ID: "d1", Addr: deadAddr(t)}, jack.Upstream{ID: "d2", Addr: deadAddr(t)}))
	status, body := get(t, srv.Client(), srv.URL, "shop.test")
	if status != http.StatusBadGateway || !strings.Contains(body, "The app at shop.test did not answer") {
		t.Errorf("status %d, body %q; want 502 and a message", status, body)
	}
	for _, id := range []string{"d1", "d2"} {
		if n := p.InFlight(id); n != 0 {
			t.Errorf("%s left with %d in flight", id, n)
		}
	}
}

func TestProxyDoesNotResendRequestWithBody(t *testing.T) {
	live := newBackend(t, "live")
	p, srv := newTestProxy(t)
	dead := jack.Upstream{ID: "dead", Addr: deadAddr(t)}
	setRoutes(t, p, 1, newRoute("shop/prod", []string{"shop.test"}, dead, live.upstream("live")))
	statuses := map[int]int{}
	for range 10 {
		req, _ := http.NewRequest(http.MethodPost, srv.URL, strings.NewReader("order=1"))
		req.Host = "shop.test"
		resp, err := srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		statuses[resp.StatusCode]++
	}
	// The first sent to the dead upstream fails, since its body was read and
	// cannot be sent again; the balancer then passes the dead one over.
	if statuses[http.StatusBadGateway] == 0 || statuses[http.StatusOK] == 0 || statuses[http.StatusBadGateway]+statuses[http.StatusOK] != 10 {
		t.Errorf("statuses %v; want some 502 (not resent) and some 200", statuses)
	}
}

func TestProxyStreamsResponsesWithoutBuffering(t *testing.T) {
	more := make(chan struct{})
	streamer := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "first\n")
		w.(http.Flusher).Flush()
		<-more
		io.WriteString(w, "second\n")
	}))
	defer streamer.Close()
	p, srv := newTestProxy(t)
	setRoutes(t, p, 1, newRoute("shop/prod", []string{"shop.test"}, jack.Upstream{ID: "s", Addr: streamer.Listener.Addr().String()}))
	req, _ := http.NewRequest(http.MethodGet, srv.URL, nil)
	req.Host = "shop.test"
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	buf := make([]byte, 6)
	if _, err := io.ReadFull(resp.Body, buf); err != nil || string(buf) != "first\n" {
		t.Fatalf("read %q, %v before the backend finished; want the first chunk", buf, err)
	}
	close(more)
	rest, _ := io.ReadAll(resp.Body)
	if string(rest) != "second\n" {
		t.Errorf("rest %q", rest)
	}
}

func TestProxyPassesOverUpstreamThatRefusedConnections(t *testing.T) {
	live := newBackend(t, "live")
	p, srv := newTestProxy(t)
	dead := jack.Upstream{ID: "dead", Addr: deadAddr(t)}
	var deadDials atomic.Int64
	dial := p.dial
	p.dial = func(ctx context.Context, network, addr string) (net.Conn, error) {
		if addr == dead.Addr {
			deadDials.Add(1)
		}
		return dial(ctx, network, addr)
	}
	setRoutes(t, p, 1, newRoute("shop/prod", []string{"shop.test"}, dead, live.upstream("live")))
	for i := range 20 {
		if status, _ := get(t, srv.Client(), srv.URL, "shop.test"); status != http.StatusOK {
			t.Fatalf("request %d: status %d", i, status)
		}
	}
	// Without the cooldown, every other request would dial the dead one.
	if n := deadDials.Load(); n == 0 || n > 3 {
		t.Errorf("dialed the dead upstream %d times for 20 requests; want it passed over after the first", n)
	}
}
