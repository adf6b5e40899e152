//go:build linux

package http1

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"
)

// These tests pin the server's event loops (loop_linux.go): the responses
// they give themselves, the connections they lend to goroutines and take
// back, and the sockets they write without waiting. The rest of the
// package's tests run on the loops too; scripts/test runs the package
// again without them (JACK_ROUTER_LOOPS=0).

// newMixedFront serves static files under /static/ (small.css, and
// big.js, 200 KiB, held in memory) and everything else from the app.
func newMixedFront(t *testing.T, configure ...func(*Server)) (*testFront, []byte) {
	t.Helper()
	big := bytes.Repeat([]byte("0123456789abcdef"), 200<<10/16)
	h := newTestHandler(map[string][]byte{"/static/small.css": []byte("a{b:c}\n"), "/static/big.js": big})
	return newTestServer(t, h, configure...), big
}

func TestOneConnectionCarriesStaticProxiedAndBodiedRequestsInOrder(t *testing.T) {
	f, _ := newMixedFront(t)
	conn, br := dialFront(t, f)
	// Twice: the first time the static files are read from disk (by a
	// goroutine), the second from memory (by the loop).
	for round := range 2 {
		io.WriteString(conn, "GET /static/small.css HTTP/1.1\r\nHost: shop.test\r\n\r\n"+
			"GET /app/one HTTP/1.1\r\nHost: shop.test\r\n\r\n"+
			"POST /app/form HTTP/1.1\r\nHost: shop.test\r\nContent-Length: 5\r\n\r\nhello"+
			"GET /static/small.css HTTP/1.1\r\nHost: SHOP.test:80\r\n\r\n"+
			"GET /app/two HTTP/1.1\r\nHost: shop.test\r\n\r\n")
		for i, want := range []string{"static", "/app/one", "/app/form", "static", "/app/two"} {
			resp, body := readResponse(t, br, "GET")
			if resp.StatusCode != 200 {
				t.Fatalf("round %d, response %d: %d %q", round, i, resp.StatusCode, body)
			}
			if want == "static" {
				if body != "a{b:c}\n" {
					t.Errorf("round %d, response %d: %q, want the static file", round, i, body)
				}
				continue
			}
			var s seen
			jsonDecode(t, []byte(body), &s)
			if s.URI != want {
				t.Errorf("round %d: response %d came for %s, want %s", round, i, s.URI, want)
			}
		}
	}
	// Idle again, and between requests the connection holds no buffer.
	waitFor(t, "the connection idle without buffers", func() bool {
		f.server.mu.Lock()
		defer f.server.mu.Unlock()
		for c := range f.server.conns {
			return c.idle.Load() && c.bare.Load()
		}
		return false
	})
}

func TestAClientThatDoesNotReadHoldsUpNoOtherClient(t *testing.T) {
	f, big := newMixedFront(t)
	const pipelined = 100 // 20 MB of responses: far more than the sockets hold
	stalled, stalledBr := dialFront(t, f)
	stalled.SetDeadline(time.Now().Add(60 * time.Second))
	// Warm the cache, so that the loop responds with the file itself.
	io.WriteString(stalled, "GET /static/big.js HTTP/1.1\r\nHost: shop.test\r\n\r\n")
	if resp, body := readResponse(t, stalledBr, "GET"); resp.StatusCode != 200 || body != string(big) {
		t.Fatalf("first response: %d, %d bytes", resp.StatusCode, len(body))
	}
	go io.WriteString(stalled, strings.Repeat("GET /static/big.js HTTP/1.1\r\nHost: shop.test\r\n\r\n", pipelined))
	time.Sleep(200 * time.Millisecond) // the socket fills up; the client reads nothing

	for i := range 20 {
		start := time.Now()
		conn, br := dialFront(t, f)
		io.WriteString(conn, "GET /static/small.css HTTP/1.1\r\nHost: shop.test\r\n\r\nGET /app/x HTTP/1.1\r\nHost: shop.test\r\n\r\n")
		if resp, body := readResponse(t, br, "GET"); resp.StatusCode != 200 || body != "a{b:c}\n" {
			t.Fatalf("client %d beside the stalled one: %d %q", i, resp.StatusCode, body)
		}
		if resp, _ := readResponse(t, br, "GET"); resp.StatusCode != 200 {
			t.Fatalf("client %d beside the stalled one, proxied: %d", i, resp.StatusCode)
		}
		if d := time.Since(start); d > 2*time.Second {
			t.Errorf("client %d waited %s beside a client that does not read", i, d)
		}
		conn.Close()
	}

	for i := range pipelined {
		resp, body := readResponse(t, stalledBr, "GET")
		if resp.StatusCode != 200 || body != string(big) {
			t.Fatalf("stalled client's response %d: %d, %d bytes, want %d", i, resp.StatusCode, len(body), len(big))
		}
	}
}

func TestAHalfClosedClientGetsItsResponses(t *testing.T) {
	f, _ := newMixedFront(t)
	for _, path := range []string{"/static/small.css", "/app/half"} {
		conn, br := dialFront(t, f)
		io.WriteString(conn, "GET "+path+" HTTP/1.1\r\nHost: shop.test\r\n\r\nGET "+path+" HTTP/1.1\r\nHost: shop.test\r\n\r\n")
		conn.(*net.TCPConn).CloseWrite()
		for i := range 2 {
			if resp, body := readResponse(t, br, "GET"); resp.StatusCode != 200 {
				t.Fatalf("%s, response %d after the client's half close: %d %q", path, i, resp.StatusCode, body)
			}
		}
		start := time.Now()
		if _, err := br.ReadByte(); err != io.EOF || time.Since(start) > 2*time.Second {
			t.Errorf("%s: after the responses: %v after %s, want the connection closed at once", path, err, time.Since(start))
		}
	}
}

func TestHeadsInPiecesAndHeadsLargerThanTheLoopsBuffer(t *testing.T) {
	f, _ := newMixedFront(t)
	conn, br := dialFront(t, f)
	padding := "X-Padding: " + strings.Repeat("p", 6000) + "\r\n" // past the loop's 4 KiB buffer
	for _, path := range []string{"/static/small.css", "/app/large"} {
		io.WriteString(conn, "GET "+path+" HTTP/1.1\r\nHost: shop.test\r\n"+padding+"\r\n")
		if resp, body := readResponse(t, br, "GET"); resp.StatusCode != 200 {
			t.Fatalf("%s with a 6 KB head: %d %q", path, resp.StatusCode, body)
		}
	}
	// Byte by byte, and the loop waits for the rest each time.
	req := "GET /static/small.css HTTP/1.1\r\nHost: shop.test\r\n\r\n"
	for i := range len(req) {
		io.WriteString(conn, req[i:i+1])
		time.Sleep(time.Millisecond)
	}
	if resp, body := readResponse(t, br, "GET"); resp.StatusCode != 200 || body != "a{b:c}\n" {
		t.Fatalf("a head in 1-byte pieces: %d %q", resp.StatusCode, body)
	}
	// A head past the limit is refused as before. A goroutine reads
	// MaxHeaderBytes, 4 KiB and as much again as it found buffered (up
	// to the loop's 4 KiB) past what it found buffered (readRequest).
	io.WriteString(conn, "GET / HTTP/1.1\r\nHost: shop.test\r\nX-Huge: "+strings.Repeat("h", int(f.server.MaxHeaderBytes)+16384)+"\r\n\r\n")
	if resp, _ := readResponse(t, br, "GET"); resp.StatusCode != http.StatusRequestHeaderFieldsTooLarge {
		t.Errorf("a 1 MB head: %d, want 431", resp.StatusCode)
	}
}

func TestShutdownWaitsForLentConnectionsAndClosesTheLoops(t *testing.T) {
	slow := newTestHandler(nil)
	f := newTestServer(t, slow)
	var idle []net.Conn
	for range 10 {
		conn, _ := dialFront(t, f)
		idle = append(idle, conn)
	}
	busy, busyBr := dialFront(t, f)
	io.WriteString(busy, "GET /slow HTTP/1.1\r\nHost: shop.test\r\n\r\n")
	<-slow.arrived
	done := make(chan error, 1)
	go func() { done <- f.server.Shutdown(t.Context()) }()
	for i, conn := range idle {
		if _, err := conn.Read(make([]byte, 1)); err != io.EOF {
			t.Errorf("idle connection %d at shutdown: %v, want closed", i, err)
		}
	}
	select {
	case err := <-done:
		t.Fatalf("Shutdown returned (%v) with a request in flight", err)
	case <-time.After(100 * time.Millisecond):
	}
	close(slow.release)
	if resp, _ := readResponse(t, busyBr, "GET"); resp.StatusCode != 200 {
		t.Errorf("the request in flight at shutdown: %d", resp.StatusCode)
	}
	if err := <-done; err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
	for i, l := range f.server.loops {
		waitFor(t, fmt.Sprintf("loop %d ended", i), func() bool {
			l.mu.Lock()
			defer l.mu.Unlock()
			return l.done && len(l.conns) == 0
		})
	}
}

func TestLoopCount(t *testing.T) {
	for _, c := range []struct {
		procs   int
		setting string
		want    int
	}{
		{1, "", 1}, {2, "", 1}, {8, "", 4}, {2, "2", 2}, {8, "0", 0}, {2, "many", 1}, {2, "-1", 1},
	} {
		if got := LoopCount(c.procs, c.setting); got != c.want {
			t.Errorf("LoopCount(%d, %q) = %d, want %d", c.procs, c.setting, got, c.want)
		}
	}
}

func TestClientsThatResetMidResponseLeaveNothingBehind(t *testing.T) {
	f, big := newMixedFront(t)
	warm, warmBr := dialFront(t, f)
	io.WriteString(warm, "GET /static/big.js HTTP/1.1\r\nHost: shop.test\r\n\r\n")
	if resp, body := readResponse(t, warmBr, "GET"); resp.StatusCode != 200 || len(body) != len(big) {
		t.Fatalf("warming the cache: %d", resp.StatusCode)
	}
	warm.Close()
	for i := range 20 {
		conn, br := dialFront(t, f)
		// Responses the socket cannot take at once, then a reset: the
		// loop's pending bytes meet a connection that is gone.
		io.WriteString(conn, strings.Repeat("GET /static/big.js HTTP/1.1\r\nHost: shop.test\r\n\r\n", 10))
		if i%2 == 0 {
			io.WriteString(conn, "GET /app/gone HTTP/1.1\r\nHost: shop.test\r\n\r\n") // one lent, too
		}
		br.Peek(1) // the responses have begun
		conn.(*net.TCPConn).SetLinger(0)
		conn.Close()
	}
	if status, body := get(t, f.Client(), f.URL, "shop.test"); status != 200 || backendOf(t, body) != "b" {
		t.Errorf("after the resets: %d %q", status, body)
	}
	f.Client().CloseIdleConnections()
	waitFor(t, "every connection counted out of the server and its loops", func() bool {
		f.server.mu.Lock()
		n := len(f.server.conns)
		f.server.mu.Unlock()
		for _, l := range f.server.loops {
			l.mu.Lock()
			n += len(l.conns)
			l.mu.Unlock()
		}
		return n == 0
	})
}

func TestAClientPipeliningThousandsOfRequestsTakesTurnsWithTheOthers(t *testing.T) {
	f, _ := newMixedFront(t)
	const pipelined = 3000
	busy, busyBr := dialFront(t, f)
	io.WriteString(busy, "GET /static/small.css HTTP/1.1\r\nHost: shop.test\r\n\r\n") // cached from here on
	readResponse(t, busyBr, "GET")
	responded := make(chan int, 1)
	go func() {
		n := 0
		defer func() { responded <- n }()
		for ; n < pipelined; n++ {
			resp, err := http.ReadResponse(busyBr, nil)
			if err != nil {
				return
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
	}()
	io.WriteString(busy, strings.Repeat("GET /static/small.css HTTP/1.1\r\nHost: shop.test\r\n\r\n", pipelined))
	for i := range 5 {
		conn, br := dialFront(t, f)
		io.WriteString(conn, "GET /static/small.css HTTP/1.1\r\nHost: shop.test\r\n\r\n")
		if resp, body := readResponse(t, br, "GET"); resp.StatusCode != 200 || body != "a{b:c}\n" {
			t.Fatalf("client %d beside the pipelining one: %d %q", i, resp.StatusCode, body)
		}
	}
	if n := <-responded; n != pipelined {
		t.Fatalf("the pipelining client got %d responses of %d", n, pipelined)
	}
}

// FuzzLoopsRespondAsGoroutinesDo sends the same bytes to a server with
// event loops and to one without, and wants the same responses: the loops
// read, refuse and respond to requests as the goroutines' code does.
func FuzzLoopsRespondAsGoroutinesDo(f *testing.F) {
	for _, seed := range []string{
		"GET /static/small.css HTTP/1.1\r\nHost: shop.test\r\n\r\n",
		"GET /static/small.css HTTP/1.1\r\nHost: shop.test\r\n\r\nHEAD /static/small.css HTTP/1.0\r\nHost: shop.test\r\n\r\n",
		"GET /static/small.css HTTP/1.1\r\nHost: shop.test\r\nRange: bytes=1-2\r\n\r\nGET /static/ HTTP/1.1\r\nHost: shop.test\r\n\r\n",
		"GET /static/small.css HTTP/1.1\nHost: shop.test\n\n",
		"GET /static/../etc/passwd HTTP/1.1\r\nHost: shop.test\r\n\r\n",
		"GET /static/small.css HTTP/1.1\r\nHost: shop.test\r\nIf-None-Match: *\r\n\r\n",
		"GET /static/small.css HTTP/1.1\r\nHost: nobody.test\r\n\r\n",
		"GET /static/small.css HTTP/1.1\r\nHost: shop.test\r\nConnection: close\r\n\r\nGET / HTTP/1.1\r\n\r\n",
		"GET /static/small.css HTTP/1.1\r\nHost: shop.test\r\nX: a\x00b\r\n\r\n",
		"GET /static/small.css HTTP/1.1\r\nHost: shop.test\r\nContent-Length: 3\r\n\r\nabc",
		"GET /static/small.css HTTP/1.1\r\nHo",
		"\r\n\r\nGET /static/small.css HTTP/1.1\r\nHost: shop.test\r\n\r\n",
		"GET /static/small.css HTTP/2.0\r\nHost: shop.test\r\n\r\n",
		"DELETE /static/small.css HTTP/1.1\r\nHost: shop.test\r\n\r\n",
	} {
		f.Add(seed)
	}
	files := map[string][]byte{"/static/small.css": []byte("a{b:c}\n")}
	loopFront := newTestServer(f, newTestHandler(files))
	goFront := newTestServer(f, newTestHandler(files), func(s *Server) { s.EventLoops = 0 })
	exchange := func(t testing.TB, front *testFront, in string) string {
		conn, err := net.Dial("tcp", front.Listener.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		conn.SetDeadline(time.Now().Add(10 * time.Second))
		go func() {
			io.WriteString(conn, in)
			conn.(*net.TCPConn).CloseWrite()
		}()
		out, err := io.ReadAll(conn)
		if err != nil && !errors.Is(err, syscall.ECONNRESET) {
			t.Fatalf("%q: %v", in, err)
		}
		return normalHeads(string(out))
	}
	// Warm both caches, so that the loops respond with the file themselves.
	warm := "GET /static/small.css HTTP/1.1\r\nHost: shop.test\r\n\r\n"
	exchange(f, loopFront, warm)
	exchange(f, goFront, warm)
	f.Fuzz(func(t *testing.T, in string) {
		if got, want := exchange(t, loopFront, in), exchange(t, goFront, in); got != want {
			t.Errorf("for %q\nthe loops responded  %q\nthe goroutines did    %q", in, got, want)
		}
	})
}

// normalHeads makes responses comparable: each head's fields sorted (the
// servers write a map's fields in any order), its Date left out.
func normalHeads(responses string) string {
	return responseHead.ReplaceAllStringFunc(responses, func(head string) string {
		lines := strings.Split(strings.TrimSuffix(head, "\r\n\r\n"), "\r\n")
		fields := lines[1:]
		fields = slices.DeleteFunc(fields, func(f string) bool { return strings.HasPrefix(f, "Date: ") })
		slices.Sort(fields)
		return strings.Join(append([]string{lines[0]}, fields...), "\r\n") + "\r\n\r\n"
	})
}

var responseHead = regexp.MustCompile(`HTTP/1\.[01] [^\r\n]*\r\n(?:[^\r\n]+\r\n)*\r\n`)
