package http1

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestServerRespondsToPipelinedRequestsInOrder(t *testing.T) {
	f := newTestServer(t, newTestHandler(nil))
	conn, br := dialFront(t, f)
	io.WriteString(conn, "GET /one HTTP/1.1\r\nHost: shop.test\r\n\r\nGET /two HTTP/1.1\r\nHost: shop.test\r\n\r\nHEAD /three HTTP/1.1\r\nHost: shop.test\r\n\r\nGET /four HTTP/1.1\r\nHost: shop.test\r\nConnection: close\r\n\r\n")
	for _, want := range []string{"/one", "/two", "", "/four"} {
		method := "GET"
		if want == "" {
			method = "HEAD"
		}
		resp, body := readResponse(t, br, method)
		if resp.StatusCode != 200 {
			t.Fatalf("%s: %d", want, resp.StatusCode)
		}
		if want == "" {
			if body != "" || resp.ContentLength <= 0 {
				t.Errorf("HEAD: body %q, length %d; want no body and the GET's length", body, resp.ContentLength)
			}
			continue
		}
		var s seen
		jsonDecode(t, []byte(body), &s)
		if s.URI != want {
			t.Errorf("response for %s came for %s", want, s.URI)
		}
	}
	if _, err := br.ReadByte(); err != io.EOF {
		t.Errorf("after Connection: close the connection stayed open (%v)", err)
	}
}

func TestServerSpeaksHTTP10AndExpectContinue(t *testing.T) {
	f := newTestServer(t, newTestHandler(nil))

	conn, br := dialFront(t, f)
	io.WriteString(conn, "GET /a HTTP/1.0\r\nHost: shop.test\r\nConnection: keep-alive\r\n\r\n")
	resp, _ := readResponse(t, br, "GET")
	if resp.StatusCode != 200 || resp.Header.Get("Connection") != "keep-alive" || resp.ContentLength <= 0 {
		t.Errorf("HTTP/1.0 keep-alive: %d, Connection %q, length %d", resp.StatusCode, resp.Header.Get("Connection"), resp.ContentLength)
	}
	io.WriteString(conn, "GET /b HTTP/1.0\r\nHost: shop.test\r\n\r\n")
	if resp, _ := readResponse(t, br, "GET"); resp.StatusCode != 200 {
		t.Errorf("second HTTP/1.0 request: %d", resp.StatusCode)
	}
	if _, err := br.ReadByte(); err != io.EOF {
		t.Errorf("HTTP/1.0 without keep-alive left the connection open (%v)", err)
	}

	conn, br = dialFront(t, f)
	io.WriteString(conn, "POST /upload HTTP/1.1\r\nHost: shop.test\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n")
	line, err := br.ReadString('\n')
	if err != nil || !strings.HasPrefix(line, "HTTP/1.1 100 Continue") {
		t.Fatalf("Expect: 100-continue got %q, %v", line, err)
	}
	br.ReadString('\n')
	io.WriteString(conn, "hello")
	if resp, body := readResponse(t, br, "POST"); resp.StatusCode != 200 || backendOf(t, body) != "b" {
		t.Errorf("after 100 Continue: %d %q", resp.StatusCode, body)
	}
	conn, br = dialFront(t, f)
	io.WriteString(conn, "POST /upload HTTP/1.1\r\nHost: shop.test\r\nContent-Length: 5\r\nExpect: something-else\r\n\r\n")
	if resp, _ := readResponse(t, br, "POST"); resp.StatusCode != http.StatusExpectationFailed {
		t.Errorf("unknown Expect: %d, want 417", resp.StatusCode)
	}
}

func TestServerRefusesBadRequestsAndKeepsServing(t *testing.T) {
	f := newTestServer(t, newTestHandler(nil))
	for req, want := range map[string]int{
		"GET / HTTP/1.1\r\n\r\n": 400, // no Host
		"GET / HTTP/1.1\r\nHost: shop.test\r\nHost: other.test\r\n\r\n":                        400,
		"GET / HTTP/1.1\r\nHost: shop test\r\n\r\n":                                            400,
		"GET / HTTP/1.1\r\nHost: shop.test\r\n Folded: x\r\n\r\n":                              400,
		"GET / HTTP/2.0\r\nHost: shop.test\r\n\r\n":                                            505,
		"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n":                                                     505,
		"GET / HTTP/1.1\r\nHost: shop.test\r\nTransfer-Encoding: gzip\r\n\r\n":                 501,
		"POST / HTTP/1.1\r\nHost: shop.test\r\nContent-Length: -1\r\n\r\n":                     400,
		"POST / HTTP/1.1\r\nHost: shop.test\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n": 400,
	} {
		resp, _ := rawRequest(t, f.Listener.Addr().String(), req)
		if resp.StatusCode != want && !(want == 501 && resp.StatusCode == 400) {
			t.Errorf("%q: %d, want %d", req, resp.StatusCode, want)
		}
	}
	if status, body := get(t, f.Client(), f.URL, "shop.test"); status != 200 || backendOf(t, body) != "b" {
		t.Errorf("after bad requests: %d %q", status, body)
	}
}

func TestServerTimesOutSlowHeadersAndIdleConnections(t *testing.T) {
	f := newTestServer(t, newTestHandler(nil), func(s *Server) {
		s.ReadHeaderTimeout = 100 * time.Millisecond
		s.IdleTimeout = 200 * time.Millisecond
	})
	conn, br := dialFront(t, f)
	io.WriteString(conn, "GET / HTTP/1.1\r\nHost: sh") // and nothing more
	start := time.Now()
	if _, err := br.ReadByte(); err != io.EOF || time.Since(start) > 5*time.Second {
		t.Errorf("slow header: %v after %s; want the connection closed", err, time.Since(start))
	}
	conn, br = dialFront(t, f)
	io.WriteString(conn, "GET / HTTP/1.1\r\nHost: shop.test\r\n\r\n")
	readResponse(t, br, "GET")
	start = time.Now()
	if _, err := br.ReadByte(); err != io.EOF || time.Since(start) < 150*time.Millisecond {
		t.Errorf("idle: %v after %s; want the connection closed after the idle timeout", err, time.Since(start))
	}
}

func TestServerShutdownClosesIdleAndFinishesActive(t *testing.T) {
	slow := newTestHandler(nil)
	f := newTestServer(t, slow)
	idle, idleBr := dialFront(t, f)
	_ = idle
	busy, busyBr := dialFront(t, f)
	io.WriteString(busy, "GET /slow HTTP/1.1\r\nHost: shop.test\r\n\r\n")
	<-slow.arrived
	done := make(chan error, 1)
	go func() { done <- f.server.Shutdown(t.Context()) }()
	if _, err := idleBr.ReadByte(); err != io.EOF {
		t.Errorf("idle connection at shutdown: %v, want closed", err)
	}
	close(slow.release)
	resp, body := readResponse(t, busyBr, "GET")
	if resp.StatusCode != 200 || body != "released" || !resp.Close {
		t.Errorf("request in flight at shutdown: %d %q, close %v; want its response, then the connection closed", resp.StatusCode, body, resp.Close)
	}
	if err := <-done; err != nil {
		t.Errorf("shutdown: %v", err)
	}
}

func TestServerTellsAWaitingHandlerWhenItsClientLeaves(t *testing.T) {
	slow := newTestHandler(nil)
	f := newTestServer(t, slow)
	conn, _ := dialFront(t, f)
	io.WriteString(conn, "GET /slow HTTP/1.1\r\nHost: shop.test\r\n\r\n")
	<-slow.arrived
	conn.Close()
	select {
	case <-slow.canceled:
	case <-time.After(10 * time.Second):
		t.Fatal("the handler waited on after its client left")
	}

	// A client that stays gets its response, however long it takes.
	conn, br := dialFront(t, f)
	io.WriteString(conn, "GET /slow HTTP/1.1\r\nHost: shop.test\r\n\r\n")
	<-slow.arrived
	time.Sleep(WatchAfter + 200*time.Millisecond)
	close(slow.release)
	if resp, body := readResponse(t, br, "GET"); resp.StatusCode != 200 || body != "released" {
		t.Errorf("a patient client got %d %q", resp.StatusCode, body)
	}
	io.WriteString(conn, "GET /again HTTP/1.1\r\nHost: shop.test\r\n\r\n")
	if resp, _ := readResponse(t, br, "GET"); resp.StatusCode != 200 {
		t.Errorf("the connection after a watched request: %d", resp.StatusCode)
	}
	select {
	case <-slow.canceled:
		t.Error("the handler was told a patient client left")
	default:
	}
}

// TestIdleConnectionsHoldNoBuffers pins what makes 10,000 idle keep-alive
// clients cheap: between requests a connection gives back its read and
// write buffers (and its head reader), and takes them again when the next
// request arrives, in pieces or not.
func TestIdleConnectionsHoldNoBuffers(t *testing.T) {
	f := newTestServer(t, newTestHandler(nil))
	const clients = 20
	var conns []net.Conn
	var readers []*bufio.Reader
	for range clients {
		conn, br := dialFront(t, f)
		io.WriteString(conn, "GET /first HTTP/1.1\r\nHost: shop.test\r\n\r\n")
		if resp, _ := readResponse(t, br, "GET"); resp.StatusCode != 200 {
			t.Fatalf("first request: %d", resp.StatusCode)
		}
		conns, readers = append(conns, conn), append(readers, br)
	}
	waitFor(t, "every connection idle without buffers", func() bool {
		f.server.mu.Lock()
		defer f.server.mu.Unlock()
		idle := 0
		for c := range f.server.conns {
			if c.idle.Load() && c.bare.Load() {
				idle++
			}
		}
		return idle == clients
	})
	for i, conn := range conns {
		// The next request in two pieces, the second after a pause.
		io.WriteString(conn, "GET /second HTTP/1.1\r\nHo")
		time.Sleep(time.Millisecond)
		io.WriteString(conn, "st: shop.test\r\n\r\n")
		if resp, body := readResponse(t, readers[i], "GET"); resp.StatusCode != 200 || !strings.Contains(body, "/second") {
			t.Fatalf("second request on connection %d: %d %q", i, resp.StatusCode, body)
		}
	}
}
