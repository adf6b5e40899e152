package router

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/jack-paas/jack"
)

// rawRequest writes req to the proxy at addr as it is and reads the
// response.
func rawRequest(t *testing.T, addr, req string) (*http.Response, string) {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.WriteString(conn, req); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufioReader(conn), nil)
	if err != nil {
		t.Fatalf("read response to %q: %v", firstLine(req), err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	return resp, string(body)
}

func TestProxyDropsHopByHopHeadersBothWays(t *testing.T) {
	var seen http.Header
	b := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen = r.Header.Clone()
		h := w.Header()
		h.Set("Connection", "X-Internal")
		h.Set("X-Internal", "secret")
		h.Set("Keep-Alive", "timeout=5")
		h.Set("Proxy-Authenticate", "Basic")
		h.Set("X-Kept", "yes")
		io.WriteString(w, "ok")
	}))
	defer b.Close()
	p, srv := newTestProxy(t)
	setRoutes(t, p, 1, newRoute("shop/prod", []string{"shop.test"}, jack.Upstream{ID: "b", Addr: b.Listener.Addr().String()}))
	resp, body := rawRequest(t, srv.Listener.Addr().String(), "GET /x HTTP/1.1\r\nHost: shop.test\r\n"+
		"Connection: keep-alive, X-Client-Hop\r\nX-Client-Hop: 1\r\nKeep-Alive: timeout=9\r\nProxy-Authorization: Basic abc\r\n"+
		"Te: gzip\r\nTrailer: X-T\r\nProxy-Connection: keep-alive\r\nUpgrade: h2c\r\nX-End-To-End: kept\r\n\r\n")
	if resp.StatusCode != 200 || body != "ok" {
		t.Fatalf("%d %q", resp.StatusCode, body)
	}
	for _, h := range []string{"X-Client-Hop", "Keep-Alive", "Proxy-Authorization", "Te", "Trailer", "Proxy-Connection", "Upgrade"} {
		if v := seen.Get(h); v != "" {
			t.Errorf("the app saw %s: %q", h, v)
		}
	}
	if seen.Get("X-End-To-End") != "kept" {
		t.Errorf("the app lost an end-to-end header: %v", seen)
	}
	for _, h := range []string{"X-Internal", "Keep-Alive", "Proxy-Authenticate"} {
		if v := resp.Header.Get(h); v != "" {
			t.Errorf("the client saw %s: %q", h, v)
		}
	}
	if resp.Header.Get("X-Kept") != "yes" || resp.Header.Get("X-Request-Id") == "" {
		t.Errorf("response headers %v; want X-Kept and X-Request-Id", resp.Header)
	}
}

func TestProxyEnforcesTheBodyLimitOfTheEnvironment(t *testing.T) {
	b := newBackend(t, "b")
	p, srv := newTestProxy(t)
	route := newRoute("shop/prod", []string{"shop.test"}, b.upstream("b"))
	route.Edge.BodyLimit = 1024
	setRoutes(t, p, 1, route)
	addr := srv.Listener.Addr().String()

	resp, body := rawRequest(t, addr, "POST /upload HTTP/1.1\r\nHost: shop.test\r\nContent-Length: 2048\r\n\r\n")
	if resp.StatusCode != 413 || !strings.Contains(body, "larger than the 1 KiB this app accepts") {
		t.Errorf("declared 2 KiB: %d %q", resp.StatusCode, body)
	}
	chunk := strings.Repeat("x", 1500)
	resp, body = rawRequest(t, addr, fmt.Sprintf("POST /upload HTTP/1.1\r\nHost: shop.test\r\nTransfer-Encoding: chunked\r\n\r\n%x\r\n%s\r\n0\r\n\r\n", len(chunk), chunk))
	if resp.StatusCode != 413 {
		t.Errorf("chunked 1500 bytes: %d %q", resp.StatusCode, body)
	}
	resp, body = rawRequest(t, addr, "POST /upload HTTP/1.1\r\nHost: shop.test\r\nContent-Length: 512\r\n\r\n"+strings.Repeat("y", 512))
	if resp.StatusCode != 200 || backendOf(t, body) != "b" {
		t.Errorf("512 bytes: %d %q", resp.StatusCode, body)
	}
	small := strings.Repeat("z", 700)
	resp, body = rawRequest(t, addr, fmt.Sprintf("POST /upload HTTP/1.1\r\nHost: shop.test\r\nTransfer-Encoding: chunked\r\n\r\n%x\r\n%s\r\n0\r\n\r\n", len(small), small))
	if resp.StatusCode != 200 {
		t.Errorf("chunked 700 bytes: %d %q", resp.StatusCode, body)
	}
	if n := b.requests.Load(); n != 2 {
		t.Errorf("the app got %d requests; want only the two within the limit", n)
	}
}

func TestProxyResponds504WhenTheAppDoesNotBeginItsResponse(t *testing.T) {
	slow := newBlockingBackend(t)
	p, srv := newTestProxy(t)
	p.headerTimeout = 100 * time.Millisecond
	setRoutes(t, p, 1, newRoute("shop/prod", []string{"shop.test"}, slow.upstream("slow")))
	status, body := get(t, srv.Client(), srv.URL, "shop.test")
	if status != http.StatusGatewayTimeout || !strings.Contains(body, "did not answer within 100ms") {
		t.Errorf("%d %q, want 504", status, body)
	}
	waitFor(t, "the request to leave", func() bool { return p.InFlight("slow") == 0 })
}

func TestProxyPassesTrailersAndChunkedResponses(t *testing.T) {
	b := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Trailer", "X-Checksum")
		io.WriteString(w, "part one,")
		w.(http.Flusher).Flush()
		io.WriteString(w, "part two")
		w.Header().Set("X-Checksum", "abc123")
	}))
	defer b.Close()
	p, srv := newTestProxy(t)
	setRoutes(t, p, 1, newRoute("shop/prod", []string{"shop.test"}, jack.Upstream{ID: "b", Addr: b.Listener.Addr().String()}))
	req, _ := http.NewRequest("GET", srv.URL, nil)
	req.Host = "shop.test"
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(body) != "part one,part two" || resp.Trailer.Get("X-Checksum") != "abc123" || len(resp.TransferEncoding) == 0 {
		t.Errorf("body %q, trailer %v, encoding %v", body, resp.Trailer, resp.TransferEncoding)
	}
}

func TestProxyStreamsServerSentEvents(t *testing.T) {
	next := make(chan struct{})
	b := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		for i := range 3 {
			fmt.Fprintf(w, "data: %d\n\n", i)
			w.(http.Flusher).Flush()
			<-next
		}
	}))
	defer b.Close()
	p, srv := newTestProxy(t)
	setRoutes(t, p, 1, newRoute("shop/prod", []string{"shop.test"}, jack.Upstream{ID: "b", Addr: b.Listener.Addr().String()}))
	req, _ := http.NewRequest("GET", srv.URL+"/events", nil)
	req.Host = "shop.test"
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	br := bufioReader(resp.Body)
	for i := range 3 {
		line, err := br.ReadString('\n')
		if err != nil || line != fmt.Sprintf("data: %d\n", i) {
			t.Fatalf("event %d: %q, %v (held back?)", i, line, err)
		}
		br.ReadString('\n')
		next <- struct{}{}
	}
}

func TestProxyReusesUpstreamConnections(t *testing.T) {
	var conns atomic.Int64
	b := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") }))
	b.Config.ConnState = func(c net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	b.Start()
	defer b.Close()
	p, srv := newTestProxy(t)
	setRoutes(t, p, 1, newRoute("shop/prod", []string{"shop.test"}, jack.Upstream{ID: "b", Addr: b.Listener.Addr().String()}))
	for i := range 50 {
		if status, _ := get(t, srv.Client(), srv.URL, "shop.test"); status != 200 {
			t.Fatalf("request %d: %d", i, status)
		}
	}
	if n := conns.Load(); n > 2 {
		t.Errorf("50 requests opened %d connections to the app; want them kept alive", n)
	}
}

func TestProxySurvivesAppsThatCloseIdleConnectionsSoon(t *testing.T) {
	b := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, r.Method) }))
	b.Config.IdleTimeout = 30 * time.Millisecond // like gunicorn's keepalive, shorter
	b.Start()
	defer b.Close()
	p, srv := newTestProxy(t)
	setRoutes(t, p, 1, newRoute("shop/prod", []string{"shop.test"}, jack.Upstream{ID: "b", Addr: b.Listener.Addr().String()}))
	for i := range 8 {
		method := []string{"GET", "POST", "DELETE"}[i%3]
		resp, body := rawRequest(t, srv.Listener.Addr().String(), method+" / HTTP/1.1\r\nHost: shop.test\r\nContent-Length: 0\r\n\r\n")
		if resp.StatusCode != 200 || body != method {
			t.Fatalf("%s %d: %d %q", method, i, resp.StatusCode, body)
		}
		time.Sleep(150 * time.Millisecond) // the app has closed the connection by now
	}
}

func TestRouterResponds431ForOversizedHeadersAnd400ForGarbage(t *testing.T) {
	b := newBackend(t, "b")
	r := startRun(t, shortTempDir(t))
	if err := r.client.SetRoutes(context.Background(), jack.RouteTable{Generation: 1, Routes: []jack.Route{newRoute("shop/prod", []string{"shop.test"}, b.upstream("b"))}}); err != nil {
		t.Fatal(err)
	}
	addr := r.status.ListenAddr
	resp, _ := rawRequest(t, addr, "GET / HTTP/1.1\r\nHost: shop.test\r\nX-Big: "+strings.Repeat("a", 2<<20)+"\r\n\r\n")
	if resp.StatusCode != http.StatusRequestHeaderFieldsTooLarge {
		t.Errorf("2 MiB header: %d, want 431", resp.StatusCode)
	}
	for _, garbage := range []string{
		"GARBAGE\r\n\r\n",
		"GET / HTTP/1.1\r\nHost: shop.test\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello",
		"GET / HTTP/1.1\r\nHost: shop.test\r\nBad Header: x\r\n\r\n",
		"GET / HTTP/9.9\r\nHost: shop.test\r\n\r\n",
	} {
		resp, _ := rawRequest(t, addr, garbage)
		if resp.StatusCode != 400 && resp.StatusCode != 505 {
			t.Errorf("%q: %d, want 400", garbage, resp.StatusCode)
		}
	}
	if status, body := get(t, http.DefaultClient, "http://"+addr, "shop.test"); status != 200 || backendOf(t, body) != "b" {
		t.Errorf("after bad input the router responded %d %q", status, body)
	}
	if n := b.requests.Load(); n != 1 {
		t.Errorf("the app got %d requests, want only the good one", n)
	}
}

func TestDrainClosesWebSocketsWithGoingAway(t *testing.T) {
	ws := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := websocket.Accept(w, r, nil)
		if err != nil {
			return
		}
		defer c.CloseNow()
		for {
			typ, msg, err := c.Read(r.Context())
			if err != nil {
				return
			}
			c.Write(r.Context(), typ, msg)
		}
	}))
	defer ws.Close()
	p, srv := newTestProxy(t)
	setRoutes(t, p, 1, newRoute("chat/prod", []string{"chat.test"}, jack.Upstream{ID: "ws", Addr: ws.Listener.Addr().String()}))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, _, err := websocket.Dial(ctx, "ws://"+srv.Listener.Addr().String()+"/live", &websocket.DialOptions{Host: "chat.test"})
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseNow()
	for i := range 3 {
		msg := fmt.Sprintf("hello %d", i)
		c.Write(ctx, websocket.MessageText, []byte(msg))
		if _, got, err := c.Read(ctx); err != nil || string(got) != msg {
			t.Fatalf("echo %d: %q, %v", i, got, err)
		}
	}
	setRoutes(t, p, 2, newRoute("chat/prod", []string{"chat.test"}))
	result, err := p.Drain(ctx, []string{"ws"}, 50*time.Millisecond)
	if err != nil || result.Remaining != 1 {
		t.Fatalf("drain: %+v, %v; want the socket cut", result, err)
	}
	_, _, err = c.Read(ctx)
	if status := websocket.CloseStatus(err); status != websocket.StatusGoingAway {
		t.Errorf("the client read %v (status %d); want a close frame with 1001 going away", err, status)
	}
	waitFor(t, "the socket to leave", func() bool { return p.InFlight("ws") == 0 })
}

func TestAccessLogAndMetricsOfTheRunningRouter(t *testing.T) {
	b := newBackend(t, "b")
	dir := shortTempDir(t)
	r := startRun(t, dir)
	ctx := context.Background()
	if err := r.client.SetRoutes(ctx, jack.RouteTable{Generation: 1, Routes: []jack.Route{newRoute("shop/prod", []string{"shop.test"}, b.upstream("inst-1"))}}); err != nil {
		t.Fatal(err)
	}
	addr := r.status.ListenAddr
	req, _ := http.NewRequest("GET", "http://"+addr+"/cart?secret=1", nil)
	req.Host = "Shop.test"
	req.Header.Set("X-Request-Id", "req-77")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	get(t, http.DefaultClient, "http://"+addr, "nobody.test")

	var lines []map[string]any
	waitFor(t, "two access log lines", func() bool {
		data, _ := readFileString(dir + "/router-access.ndjson")
		lines = nil
		for _, l := range strings.Split(strings.TrimSpace(data), "\n") {
			var m map[string]any
			if json.Unmarshal([]byte(l), &m) == nil {
				lines = append(lines, m)
			}
		}
		return len(lines) >= 2
	})
	first := lines[0]
	for k, want := range map[string]any{
		"env": "shop/prod", "host": "shop.test", "method": "GET", "path": "/cart", "status": 200.0,
		"instance": "inst-1", "request_id": "req-77", "client": "127.0.0.1",
	} {
		if first[k] != want {
			t.Errorf("log %s = %v, want %v (line %v)", k, first[k], want, first)
		}
	}
	if tm, _ := first["time"].(string); !strings.Contains(tm, "T") {
		t.Errorf("time %v", first["time"])
	}
	if d, ok := first["duration_ms"].(float64); !ok || d <= 0 {
		t.Errorf("duration_ms %v", first["duration_ms"])
	}
	if n, ok := first["bytes"].(float64); !ok || n <= 0 {
		t.Errorf("bytes %v", first["bytes"])
	}
	if second := lines[1]; second["status"] != 404.0 || second["env"] != "" || second["instance"] != "" {
		t.Errorf("unknown host logged as %v", second)
	}

	m, err := r.client.Metrics(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Envs) != 1 || m.Envs[0].Env != "shop/prod" || m.Envs[0].Requests["2xx"] != 1 ||
		len(m.Envs[0].Instances) != 1 || m.Envs[0].Instances[0].ID != "inst-1" || m.Envs[0].Instances[0].Requests["2xx"] != 1 {
		t.Errorf("metrics %+v", m.Envs)
	}
	if m.Unrouted.Requests["4xx"] != 1 || m.AccessLog.Written < 2 {
		t.Errorf("unrouted %+v, access log %+v", m.Unrouted, m.AccessLog)
	}
	if last := m.Envs[0].LatencyCounts; last[len(last)-1] != 1 {
		t.Errorf("latency histogram %v", m.Envs[0].LatencyCounts)
	}
}

func TestAccessLogRotatesPastItsLimit(t *testing.T) {
	dir := t.TempDir()
	l := openAccessLog(dir+"/access.ndjson", 1000, discardLogger())
	for i := range 50 {
		l.add(accessRecord{Time: time.Now(), Env: "a/b", Host: "h", Method: "GET", Path: fmt.Sprintf("/%d", i), Status: 200})
		if i%10 == 9 {
			waitFor(t, "the writer", func() bool { return l.counters().Written == int64(i+1) })
		}
	}
	l.close()
	cur, _ := readFileString(dir + "/access.ndjson")
	old, err := readFileString(dir + "/access.ndjson.1")
	if err != nil || len(cur) > 1000 || len(old) > 1000 || !strings.Contains(cur, `"path":"/49"`) {
		t.Errorf("current %d bytes, rotated %d bytes (%v)", len(cur), len(old), err)
	}
	for _, line := range strings.Split(strings.TrimSpace(old+cur), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Errorf("line %q: %v", line, err)
		}
	}
}

func TestAccessLogLinesAreValidJSONWhateverTheRequest(t *testing.T) {
	weird := []string{"quote\"back\\slash", "ctl\x00\x01\x1f\x7f", "bad utf8 \xff\xfe", "línea ✓", "\u2028\u2029"}
	for _, s := range weird {
		line := appendRecord(nil, &accessRecord{Time: time.Now(), Path: s, Host: s, RequestID: s})
		var m map[string]any
		if err := json.Unmarshal(line, &m); err != nil {
			t.Errorf("%q: %v in %s", s, err, line)
		}
		if !strings.HasSuffix(string(line), "}\n") || strings.Count(string(line), "\n") != 1 {
			t.Errorf("%q: not one line: %q", s, line)
		}
	}
}

func TestAccessLogBatchesAreCutAtLinesForRotation(t *testing.T) {
	batch := []byte("aaaa\nbb\ncccccc\n")
	for _, tc := range []struct {
		room int64
		want int
	}{{100, 15}, {15, 15}, {14, 8}, {8, 8}, {7, 5}, {5, 5}, {4, 5}, {0, 5}, {-3, 5}} {
		if got := chunkBefore(batch, tc.room); got != tc.want {
			t.Errorf("room %d: chunk of %d bytes, want %d", tc.room, got, tc.want)
		}
	}
}
