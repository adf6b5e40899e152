package http1

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// testHandler plays the router for the server's tests, with its two kinds
// of requests. Files held in memory under /static/ are responded to at
// once, as the router's static files are, once a first request for each
// has "read it from disk" on a goroutine; other methods on them get a 405
// and missing ones a 404, at once too. Every other path is an app's,
// responded to on a goroutine with what the app received (seen); requests
// to /slow wait until release is closed, or their client leaves.
type testHandler struct {
	files    map[string][]byte // by path: "/static/small.css"
	arrived  chan struct{}     // a request to /slow came
	release  chan struct{}     // requests to /slow may have their response
	canceled chan struct{}     // a request to /slow saw its client leave

	mu   sync.Mutex
	held map[string]bool // static paths requested before: in memory
}

func newTestHandler(files map[string][]byte) *testHandler {
	return &testHandler{files: files, arrived: make(chan struct{}, 100), release: make(chan struct{}),
		canceled: make(chan struct{}, 100), held: map[string]bool{}}
}

// seen is what the app responds: its name and the request it got.
type seen struct {
	Backend string      `json:"backend"`
	Host    string      `json:"host"`
	URI     string      `json:"uri"`
	Header  http.Header `json:"header"`
}

func (h *testHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch {
	case strings.HasPrefix(r.URL.Path, "/static/"):
		h.serveStatic(w, r)
	case r.URL.Path == "/slow":
		h.serveSlow(w, r)
	default:
		h.serveApp(w, r)
	}
}

// RespondsAtOnce says yes to static paths requested before, without a
// body.
func (h *testHandler) RespondsAtOnce(r *http.Request) bool {
	if r.Body != nil && r.Body != http.NoBody || !strings.HasPrefix(r.URL.Path, "/static/") {
		return false
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.held[r.URL.Path]
}

// NewLoopHandler returns the handler itself: it decides the same way
// whoever asks.
func (h *testHandler) NewLoopHandler() LoopHandler { return h }

var fileTime = time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)

func (h *testHandler) serveStatic(w http.ResponseWriter, r *http.Request) {
	h.mu.Lock()
	h.held[r.URL.Path] = true
	h.mu.Unlock()
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "GET and HEAD only", http.StatusMethodNotAllowed)
		return
	}
	data, ok := h.files[r.URL.Path]
	if !ok {
		http.Error(w, "Not found.", http.StatusNotFound)
		return
	}
	http.ServeContent(w, r, r.URL.Path, fileTime, bytes.NewReader(data))
}

func (h *testHandler) serveApp(w http.ResponseWriter, r *http.Request) {
	io.Copy(io.Discard, r.Body)
	body, _ := json.Marshal(seen{Backend: "b", Host: r.Host, URI: r.RequestURI, Header: r.Header})
	w.Header().Set("X-Backend", "b")
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.Write(body)
}

func (h *testHandler) serveSlow(w http.ResponseWriter, r *http.Request) {
	gone := make(chan struct{})
	stop := w.(ClientWatcher).WatchClient(func() { close(gone) })
	h.arrived <- struct{}{}
	select {
	case <-h.release:
		stop()
		io.WriteString(w, "released")
	case <-gone:
		stop()
		h.canceled <- struct{}{}
	}
}

// testFront is a Server on a loopback port, with event loops unless
// JACK_ROUTER_LOOPS says none, as the router runs it.
type testFront struct {
	URL      string
	Listener net.Listener
	server   *Server
	client   *http.Client
}

// Client returns a client of the front with its own connections.
func (f *testFront) Client() *http.Client { return f.client }

func newTestServer(t testing.TB, h Handler, configure ...func(*Server)) *testFront {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &Server{
		Handler: h, Logger: slog.New(slog.DiscardHandler),
		ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 120 * time.Second, MaxHeaderBytes: 1 << 20,
		EventLoops: LoopCount(runtime.GOMAXPROCS(0), os.Getenv("JACK_ROUTER_LOOPS")),
	}
	for _, c := range configure {
		c(s)
	}
	f := &testFront{URL: "http://" + ln.Addr().String(), Listener: ln, server: s,
		client: &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}}
	go s.Serve(ln)
	t.Cleanup(func() { s.Close(); f.client.CloseIdleConnections() })
	return f
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

// rawRequest writes req to the server at addr as it is and reads the
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
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("read response to %q: %v", req, err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	return resp, string(body)
}

// get sends a GET for host to the server at base and returns the status
// and body.
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

// backendOf returns the app's name in a response from it.
func backendOf(t testing.TB, body string) string {
	t.Helper()
	var s seen
	if err := json.Unmarshal([]byte(body), &s); err != nil {
		t.Fatalf("response %q is not from the app: %v", body, err)
	}
	return s.Backend
}

func jsonDecode(t *testing.T, data []byte, v any) {
	t.Helper()
	if err := json.Unmarshal(data, v); err != nil {
		t.Fatalf("decode %q: %v", data, err)
	}
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
