//go:build linux

package router

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jack-paas/jack"
)

// These tests pin the plain server's event loops (loop_linux.go): the
// answers they give themselves, the connections they lend to goroutines
// and take back, and the sockets they write without waiting. The rest of
// the package's tests run on the loops too; scripts/test runs the package
// again without them (JACK_ROUTER_LOOPS=0).

// newMixedFront serves shop.test: static files under /static/ (small.css,
// and big.js, 200 KiB, still held in memory) and everything else from a
// backend.
func newMixedFront(t *testing.T, configure ...func(*edgeServer)) (*testFront, []byte) {
	t.Helper()
	dir := t.TempDir()
	big := bytes.Repeat([]byte("0123456789abcdef"), 200<<10/16)
	for name, data := range map[string][]byte{"small.css": []byte("a{b:c}\n"), "big.js": big} {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	b := newBackend(t, "b")
	p, f := newTestProxy(t, configure...)
	rt := newRoute("shop/prod", []string{"shop.test"}, b.upstream("b"))
	rt.Static = []jack.StaticMount{{URL: "/static/", Dir: dir}}
	setRoutes(t, p, 1, rt)
	return f, big
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
			resp, body := readAnswer(t, br, "GET")
			if resp.StatusCode != 200 {
				t.Fatalf("round %d, answer %d: %d %q", round, i, resp.StatusCode, body)
			}
			if want == "static" {
				if body != "a{b:c}\n" {
					t.Errorf("round %d, answer %d: %q, want the static file", round, i, body)
				}
				continue
			}
			var s seen
			jsonDecode(t, []byte(body), &s)
			if s.URI != want {
				t.Errorf("round %d: answer %d came for %s, want %s", round, i, s.URI, want)
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
	const pipelined = 100 // 20 MB of answers: far more than the sockets hold
	stalled, stalledBr := dialFront(t, f)
	stalled.SetDeadline(time.Now().Add(60 * time.Second))
	// Warm the cache, so that the loop answers the file itself.
	io.WriteString(stalled, "GET /static/big.js HTTP/1.1\r\nHost: shop.test\r\n\r\n")
	if resp, body := readAnswer(t, stalledBr, "GET"); resp.StatusCode != 200 || body != string(big) {
		t.Fatalf("first answer: %d, %d bytes", resp.StatusCode, len(body))
	}
	go io.WriteString(stalled, strings.Repeat("GET /static/big.js HTTP/1.1\r\nHost: shop.test\r\n\r\n", pipelined))
	time.Sleep(200 * time.Millisecond) // the socket fills up; the client reads nothing

	for i := range 20 {
		start := time.Now()
		conn, br := dialFront(t, f)
		io.WriteString(conn, "GET /static/small.css HTTP/1.1\r\nHost: shop.test\r\n\r\nGET /app/x HTTP/1.1\r\nHost: shop.test\r\n\r\n")
		if resp, body := readAnswer(t, br, "GET"); resp.StatusCode != 200 || body != "a{b:c}\n" {
			t.Fatalf("client %d beside the stalled one: %d %q", i, resp.StatusCode, body)
		}
		if resp, _ := readAnswer(t, br, "GET"); resp.StatusCode != 200 {
			t.Fatalf("client %d beside the stalled one, proxied: %d", i, resp.StatusCode)
		}
		if d := time.Since(start); d > 2*time.Second {
			t.Errorf("client %d waited %s beside a client that does not read", i, d)
		}
		conn.Close()
	}

	for i := range pipelined {
		resp, body := readAnswer(t, stalledBr, "GET")
		if resp.StatusCode != 200 || body != string(big) {
			t.Fatalf("stalled client's answer %d: %d, %d bytes, want %d", i, resp.StatusCode, len(body), len(big))
		}
	}
}

func TestAHalfClosedClientGetsItsAnswers(t *testing.T) {
	f, _ := newMixedFront(t)
	for _, path := range []string{"/static/small.css", "/app/half"} {
		conn, br := dialFront(t, f)
		io.WriteString(conn, "GET "+path+" HTTP/1.1\r\nHost: shop.test\r\n\r\nGET "+path+" HTTP/1.1\r\nHost: shop.test\r\n\r\n")
		conn.(*net.TCPConn).CloseWrite()
		for i := range 2 {
			if resp, body := readAnswer(t, br, "GET"); resp.StatusCode != 200 {
				t.Fatalf("%s, answer %d after the client's half close: %d %q", path, i, resp.StatusCode, body)
			}
		}
		start := time.Now()
		if _, err := br.ReadByte(); err != io.EOF || time.Since(start) > 2*time.Second {
			t.Errorf("%s: after the answers: %v after %s, want the connection closed at once", path, err, time.Since(start))
		}
	}
}

func TestHeadsInPiecesAndHeadsLargerThanTheLoopsBuffer(t *testing.T) {
	f, _ := newMixedFront(t)
	conn, br := dialFront(t, f)
	padding := "X-Padding: " + strings.Repeat("p", 6000) + "\r\n" // past the loop's 4 KiB buffer
	for _, path := range []string{"/static/small.css", "/app/large"} {
		io.WriteString(conn, "GET "+path+" HTTP/1.1\r\nHost: shop.test\r\n"+padding+"\r\n")
		if resp, body := readAnswer(t, br, "GET"); resp.StatusCode != 200 {
			t.Fatalf("%s with a 6 KB head: %d %q", path, resp.StatusCode, body)
		}
	}
	// Byte by byte, and the loop waits for the rest each time.
	req := "GET /static/small.css HTTP/1.1\r\nHost: shop.test\r\n\r\n"
	for i := range len(req) {
		io.WriteString(conn, req[i:i+1])
		time.Sleep(time.Millisecond)
	}
	if resp, body := readAnswer(t, br, "GET"); resp.StatusCode != 200 || body != "a{b:c}\n" {
		t.Fatalf("a head in 1-byte pieces: %d %q", resp.StatusCode, body)
	}
	// A head past the limit is refused as before.
	io.WriteString(conn, "GET / HTTP/1.1\r\nHost: shop.test\r\nX-Huge: "+strings.Repeat("h", maxHeaderBytes+8192)+"\r\n\r\n")
	if resp, _ := readAnswer(t, br, "GET"); resp.StatusCode != http.StatusRequestHeaderFieldsTooLarge {
		t.Errorf("a 1 MB head: %d, want 431", resp.StatusCode)
	}
}

func TestShutdownWaitsForLentConnectionsAndClosesTheLoops(t *testing.T) {
	slow := newBlockingBackend(t)
	p, f := newTestProxy(t)
	setRoutes(t, p, 1, newRoute("shop/prod", []string{"shop.test"}, slow.upstream("slow")))
	var idle []net.Conn
	for range 10 {
		conn, _ := dialFront(t, f)
		idle = append(idle, conn)
	}
	busy, busyBr := dialFront(t, f)
	io.WriteString(busy, "GET / HTTP/1.1\r\nHost: shop.test\r\n\r\n")
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
	if resp, _ := readAnswer(t, busyBr, "GET"); resp.StatusCode != 200 {
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
		if got := loopCount(c.procs, c.setting); got != c.want {
			t.Errorf("loopCount(%d, %q) = %d, want %d", c.procs, c.setting, got, c.want)
		}
	}
}

func TestClientsThatResetMidAnswerLeaveNothingBehind(t *testing.T) {
	f, big := newMixedFront(t)
	warm, warmBr := dialFront(t, f)
	io.WriteString(warm, "GET /static/big.js HTTP/1.1\r\nHost: shop.test\r\n\r\n")
	if resp, body := readAnswer(t, warmBr, "GET"); resp.StatusCode != 200 || len(body) != len(big) {
		t.Fatalf("warming the cache: %d", resp.StatusCode)
	}
	warm.Close()
	for i := range 20 {
		conn, br := dialFront(t, f)
		// Answers the socket cannot take at once, then a reset: the loop's
		// pending bytes meet a connection that is gone.
		io.WriteString(conn, strings.Repeat("GET /static/big.js HTTP/1.1\r\nHost: shop.test\r\n\r\n", 10))
		if i%2 == 0 {
			io.WriteString(conn, "GET /app/gone HTTP/1.1\r\nHost: shop.test\r\n\r\n") // one lent, too
		}
		br.Peek(1) // the answers have begun
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

func TestAFileThatIsNotThereIsKnownAsSuchWithoutReadingTheDiskAgain(t *testing.T) {
	f, _ := newMixedFront(t)
	conn, br := dialFront(t, f)
	for i := range 3 {
		io.WriteString(conn, "GET /static/nothing.css HTTP/1.1\r\nHost: shop.test\r\n\r\n")
		if resp, _ := readAnswer(t, br, "GET"); resp.StatusCode != 404 {
			t.Fatalf("request %d for a missing file: %d", i, resp.StatusCode)
		}
	}
	// The folder remembers the miss: the next one is answered from memory
	// (by the loop), and still as a 404.
	p := f.server.proxy
	req, _ := http.NewRequest("GET", "http://shop.test/static/nothing.css", nil)
	if !p.answersAtOnce(req, p.table.Load()) {
		t.Error("a known miss is not answered at once")
	}
	for i := range maxMissesHeld + 10 {
		io.WriteString(conn, fmt.Sprintf("GET /static/random-%d.css HTTP/1.1\r\nHost: shop.test\r\n\r\n", i))
		if resp, _ := readAnswer(t, br, "GET"); resp.StatusCode != 404 {
			t.Fatalf("random name %d: %d", i, resp.StatusCode)
		}
	}
	p.static.mu.Lock()
	defer p.static.mu.Unlock()
	for _, d := range p.static.dirs {
		d.mu.RLock()
		misses := d.misses
		d.mu.RUnlock()
		if misses > maxMissesHeld {
			t.Errorf("a folder holds %d misses, more than %d", misses, maxMissesHeld)
		}
	}
}

func TestAClientPipeliningThousandsOfRequestsTakesTurnsWithTheOthers(t *testing.T) {
	f, _ := newMixedFront(t)
	const pipelined = 3000
	busy, busyBr := dialFront(t, f)
	io.WriteString(busy, "GET /static/small.css HTTP/1.1\r\nHost: shop.test\r\n\r\n") // cached from here on
	readAnswer(t, busyBr, "GET")
	answered := make(chan int, 1)
	go func() {
		n := 0
		defer func() { answered <- n }()
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
		if resp, body := readAnswer(t, br, "GET"); resp.StatusCode != 200 || body != "a{b:c}\n" {
			t.Fatalf("client %d beside the pipelining one: %d %q", i, resp.StatusCode, body)
		}
	}
	if n := <-answered; n != pipelined {
		t.Fatalf("the pipelining client got %d answers of %d", n, pipelined)
	}
}

// FuzzLoopsAnswerAsGoroutinesDo sends the same bytes to a plain server with
// event loops and to one without, and wants the same answers: the loops
// read, refuse and answer requests as the goroutines' code does.
func FuzzLoopsAnswerAsGoroutinesDo(f *testing.F) {
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
	dir := f.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "small.css"), []byte("a{b:c}\n"), 0o644); err != nil {
		f.Fatal(err)
	}
	rt := jack.Route{Env: "shop/prod", Hosts: []string{"shop.test"}, Static: []jack.StaticMount{{URL: "/static/", Dir: dir}}}
	withLoops, loopFront := newTestProxy(f)
	// A non-nil, empty list of loops: Serve starts none.
	noLoops, goFront := newTestProxy(f, func(s *edgeServer) { s.loops = []*eventLoop{} })
	setRoutes(f, withLoops, 1, rt)
	setRoutes(f, noLoops, 1, rt)
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
	// Warm both caches, so that the loops answer the file themselves.
	warm := "GET /static/small.css HTTP/1.1\r\nHost: shop.test\r\n\r\n"
	exchange(f, loopFront, warm)
	exchange(f, goFront, warm)
	f.Fuzz(func(t *testing.T, in string) {
		if got, want := exchange(t, loopFront, in), exchange(t, goFront, in); got != want {
			t.Errorf("for %q\nthe loops answered  %q\nthe goroutines did %q", in, got, want)
		}
	})
}

// normalHeads makes answers comparable: each head's fields sorted (the
// servers write a map's fields in any order), its Date left out.
func normalHeads(answers string) string {
	return answerHead.ReplaceAllStringFunc(answers, func(head string) string {
		lines := strings.Split(strings.TrimSuffix(head, "\r\n\r\n"), "\r\n")
		fields := lines[1:]
		fields = slices.DeleteFunc(fields, func(f string) bool { return strings.HasPrefix(f, "Date: ") })
		slices.Sort(fields)
		return strings.Join(append([]string{lines[0]}, fields...), "\r\n") + "\r\n\r\n"
	})
}

var answerHead = regexp.MustCompile(`HTTP/1\.[01] [^\r\n]*\r\n(?:[^\r\n]+\r\n)*\r\n`)
