package router

import (
	"bufio"
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/jack-paas/jack"
)

// newEchoUpgradeBackend switches every request to an "echo" protocol that
// sends each line back, as a WebSocket server would hold a connection.
func newEchoUpgradeBackend(t *testing.T) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Upgrade") != "echo" {
			http.Error(w, "upgrade to echo", http.StatusBadRequest)
			return
		}
		conn, rw, err := w.(http.Hijacker).Hijack()
		if err != nil {
			return
		}
		defer conn.Close()
		rw.WriteString("HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: echo\r\n\r\n")
		rw.Flush()
		for {
			line, err := rw.ReadString('\n')
			if err != nil {
				return
			}
			rw.WriteString(line)
			rw.Flush()
		}
	}))
	t.Cleanup(srv.Close)
	return srv
}

// dialUpgrade opens an "echo" connection through the proxy at addr.
func dialUpgrade(t *testing.T, addr, host string) (net.Conn, *bufio.Reader) {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	io.WriteString(conn, "GET /live HTTP/1.1\r\nHost: "+host+"\r\nConnection: Upgrade\r\nUpgrade: echo\r\n\r\n")
	br := bufio.NewReader(conn)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusSwitchingProtocols {
		t.Fatalf("upgrade got %s", resp.Status)
	}
	return conn, br
}

func TestProxyCarriesUpgradedConnectionsAndDrainCutsThem(t *testing.T) {
	echo := newEchoUpgradeBackend(t)
	p, srv := newTestProxy(t)
	setRoutes(t, p, 1, newRoute("chat/prod", []string{"chat.test"}, jack.Upstream{ID: "echo", Addr: echo.Listener.Addr().String()}))

	conn, br := dialUpgrade(t, srv.Listener.Addr().String(), "chat.test")
	io.WriteString(conn, "ping\n")
	if line, err := br.ReadString('\n'); err != nil || line != "ping\n" {
		t.Fatalf("echo: %q, %v", line, err)
	}
	if n := p.InFlight("echo"); n != 1 {
		t.Errorf("an open upgraded connection counts %d in flight, want 1", n)
	}

	setRoutes(t, p, 2, newRoute("chat/prod", []string{"chat.test"}))
	r, err := p.Drain(context.Background(), []string{"echo"}, 20*time.Millisecond)
	if err != nil || r.Remaining != 1 {
		t.Fatalf("drain: %+v, %v; want the connection cut", r, err)
	}
	conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	if rest, err := io.ReadAll(br); err != nil || strings.TrimSpace(string(rest)) != "" {
		t.Errorf("after the drain the connection gave %q, %v; want it closed", rest, err)
	}
	waitFor(t, "the upgraded request to end", func() bool { return p.InFlight("echo") == 0 })
}
