package router

import (
	"bufio"
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
	"github.com/jack-paas/jack/internal/router/http1"
)

// These tests pin the router as the plain server serves it: with event
// loops that respond to what it serves from memory, and goroutines for the
// rest. The server on its own is http1's to test.

// newMixedProxy serves shop.test: static files under /static/ (small.css)
// and everything else from a backend.
func newMixedProxy(t *testing.T) (*Proxy, *testFront) {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "small.css"), []byte("a{b:c}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	b := newBackend(t, "b")
	p, f := newTestProxy(t)
	rt := newRoute("shop/prod", []string{"shop.test"}, b.upstream("b"))
	rt.Static = []jack.StaticMount{{URL: "/static/", Dir: dir}}
	setRoutes(t, p, 1, rt)
	return p, f
}

// dialFront opens a raw connection to a test front.
func dialFront(t *testing.T, f *testFront) (net.Conn, *bufio.Reader) {
	t.Helper()
	conn, err := net.Dial("tcp", f.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	conn.SetDeadline(time.Now().Add(10 * time.Second))
	return conn, bufio.NewReader(conn)
}

// readResponse reads a response to a request of method, and its body.
func readResponse(t *testing.T, br *bufio.Reader, method string) (*http.Response, string) {
	t.Helper()
	resp, err := http.ReadResponse(br, &http.Request{Method: method})
	if err != nil {
		t.Fatalf("read response: %v", err)
	}
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("read body: %v", err)
	}
	resp.Body.Close()
	return resp, string(body)
}

func TestPlainServerCutsTheAppsRequestWhenTheClientLeaves(t *testing.T) {
	slow := newBlockingBackend(t)
	p, f := newTestProxy(t)
	setRoutes(t, p, 1, newRoute("shop/prod", []string{"shop.test"}, slow.upstream("slow")))
	conn, _ := dialFront(t, f)
	io.WriteString(conn, "GET /long-poll HTTP/1.1\r\nHost: shop.test\r\n\r\n")
	<-slow.arrived
	conn.Close()
	select {
	case <-slow.canceled:
	case <-time.After(10 * time.Second):
		t.Fatal("the app's request ran on after its client left")
	}
	waitFor(t, "the request to leave", func() bool { return p.InFlight("slow") == 0 })

	// A client that stays gets its response, however long it takes.
	conn, br := dialFront(t, f)
	io.WriteString(conn, "GET /long-poll HTTP/1.1\r\nHost: shop.test\r\n\r\n")
	<-slow.arrived
	time.Sleep(http1.WatchAfter + 200*time.Millisecond)
	close(slow.release)
	if resp, body := readResponse(t, br, "GET"); resp.StatusCode != 200 || body != "released" {
		t.Errorf("a patient client got %d %q", resp.StatusCode, body)
	}
	io.WriteString(conn, "GET /again HTTP/1.1\r\nHost: shop.test\r\n\r\n")
	if resp, _ := readResponse(t, br, "GET"); resp.StatusCode != 200 {
		t.Errorf("the connection after a watched request: %d", resp.StatusCode)
	}
}

func TestAFileThatIsNotThereIsKnownAsSuchWithoutReadingTheDiskAgain(t *testing.T) {
	p, f := newMixedProxy(t)
	conn, br := dialFront(t, f)
	for i := range 3 {
		io.WriteString(conn, "GET /static/nothing.css HTTP/1.1\r\nHost: shop.test\r\n\r\n")
		if resp, _ := readResponse(t, br, "GET"); resp.StatusCode != 404 {
			t.Fatalf("request %d for a missing file: %d", i, resp.StatusCode)
		}
	}
	// The folder remembers the miss: the next one is responded to from
	// memory (by the loop), and still with a 404.
	req, _ := http.NewRequest("GET", "http://shop.test/static/nothing.css", nil)
	if !p.respondsAtOnce(req, p.table.Load()) {
		t.Error("a known miss is not responded to at once")
	}
	for i := range maxMissesHeld + 10 {
		io.WriteString(conn, fmt.Sprintf("GET /static/random-%d.css HTTP/1.1\r\nHost: shop.test\r\n\r\n", i))
		if resp, _ := readResponse(t, br, "GET"); resp.StatusCode != 404 {
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

// FuzzLoopsRespondAsGoroutinesDo sends the same bytes to a router whose
// plain server has event loops and to one whose server has none, and wants
// the same responses: what the router serves from memory comes out the
// same whichever way it is served.
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
	dir := f.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "small.css"), []byte("a{b:c}\n"), 0o644); err != nil {
		f.Fatal(err)
	}
	rt := jack.Route{Env: "shop/prod", Hosts: []string{"shop.test"}, Static: []jack.StaticMount{{URL: "/static/", Dir: dir}}}
	withLoops, loopFront := newTestProxy(f)
	noLoops, goFront := newTestProxy(f, func(s *http1.Server) { s.EventLoops = 0 })
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
