package router

import (
	"context"
	"errors"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jack-paas/jack"
)

// runningRouter is a router in this process, on a loopback port.
type runningRouter struct {
	client *Client
	status Status
	done   chan struct{} // closed when it stopped
	err    error         // what Close returned, once done
	cancel context.CancelFunc
}

// stop cancels the router's context and returns what Close returned.
func (r *runningRouter) stop() error {
	r.cancel()
	<-r.done
	r.client.Close()
	return r.err
}

func startRun(t *testing.T, dataDir string) *runningRouter {
	t.Helper()
	return startRunConfig(t, Config{DataDir: dataDir, HTTPAddr: "127.0.0.1:0"})
}

// startRunConfig runs a router with cfg in this process, until it is
// done (it is closed then) or the test ends.
func startRunConfig(t *testing.T, cfg Config) *runningRouter {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	r := &runningRouter{client: NewClient(SocketPath(cfg.DataDir)), done: make(chan struct{}), cancel: cancel}
	m := New(cfg)
	if err := m.Run(ctx); err != nil {
		cancel()
		t.Fatalf("Run: %v", err)
	}
	go func() {
		<-m.Done()
		r.err = m.Close()
		close(r.done)
	}()
	t.Cleanup(func() { r.stop() })
	st, err := r.client.Status(context.Background())
	if err != nil {
		t.Fatalf("the router does not answer once Run returned: %v", err)
	}
	r.status = st
	return r
}

func TestControlRefusesOlderGeneration(t *testing.T) {
	r := startRun(t, shortTempDir(t))
	ctx := context.Background()
	table := func(gen int64) jack.RouteTable {
		return jack.RouteTable{Generation: gen, Routes: []jack.Route{{Env: "shop/prod", Hosts: []string{"shop.test"}}}}
	}
	if err := r.client.SetRoutes(ctx, table(10)); err != nil {
		t.Fatalf("generation 10: %v", err)
	}
	err := r.client.SetRoutes(ctx, table(5))
	if jack.ErrorCode(err) != jack.ECONFLICT {
		t.Fatalf("generation 5 after 10: %v, want ECONFLICT", err)
	}
	if err := r.client.SetRoutes(ctx, table(10)); err != nil {
		t.Fatalf("generation 10 again: %v", err)
	}
	got, err := r.client.Routes(ctx)
	if err != nil || got.Generation != 10 || len(got.Routes) != 1 || got.Routes[0].Env != "shop/prod" {
		t.Errorf("routes: %+v, %v", got, err)
	}
	st, err := r.client.Status(ctx)
	if err != nil || st.Generation != 10 || st.PID != os.Getpid() || st.Version != jack.BuildVersion || st.HTTPAddr != "127.0.0.1:0" {
		t.Errorf("status: %+v, %v", st, err)
	}
}

func TestControlRejectsInvalidTableAndKeepsServing(t *testing.T) {
	b := newBackend(t, "b")
	r := startRun(t, shortTempDir(t))
	ctx := context.Background()
	good := jack.RouteTable{Generation: 1, Routes: []jack.Route{newRoute("shop/prod", []string{"shop.test"}, b.upstream("b"))}}
	if err := r.client.SetRoutes(ctx, good); err != nil {
		t.Fatal(err)
	}
	bad := jack.RouteTable{Generation: 2, Routes: []jack.Route{newRoute("shop/prod", []string{"shop.test"}, jack.Upstream{ID: "x", Addr: "nowhere"})}}
	if err := r.client.SetRoutes(ctx, bad); jack.ErrorCode(err) != jack.EINVALID {
		t.Fatalf("bad table: %v, want EINVALID", err)
	}
	if status, body := get(t, http.DefaultClient, "http://"+r.status.ListenAddr, "shop.test"); status != http.StatusOK || backendOf(t, body) != "b" {
		t.Errorf("after a rejected table: %d %q", status, body)
	}
}

func TestControlDrainOverSocket(t *testing.T) {
	stuck := newBlockingBackend(t)
	r := startRun(t, shortTempDir(t))
	ctx := context.Background()
	if err := r.client.SetRoutes(ctx, jack.RouteTable{Generation: 1, Routes: []jack.Route{
		newRoute("shop/prod", []string{"shop.test"}, stuck.upstream("stuck"))}}); err != nil {
		t.Fatal(err)
	}
	response := startRequest(t, "http://"+r.status.ListenAddr, "shop.test")
	<-stuck.arrived
	if err := r.client.SetRoutes(ctx, jack.RouteTable{Generation: 2}); err != nil {
		t.Fatal(err)
	}
	res, err := r.client.Drain(ctx, []string{"stuck"}, 20*time.Millisecond)
	if err != nil || res.Remaining != 1 {
		t.Errorf("drain: %+v, %v; want 1 remaining", res, err)
	}
	if got := <-response; !strings.HasPrefix(got, "502") {
		t.Errorf("cut request got %q", got)
	}
}

func TestRunServesSavedTableAfterRestart(t *testing.T) {
	b := newBackend(t, "b")
	dir := shortTempDir(t)
	first := startRun(t, dir)
	table := jack.RouteTable{Generation: 42, Routes: []jack.Route{newRoute("shop/prod", []string{"shop.test"}, b.upstream("b"))}}
	if err := first.client.SetRoutes(context.Background(), table); err != nil {
		t.Fatal(err)
	}
	if err := first.stop(); err != nil {
		t.Fatalf("stop the first router: %v", err)
	}
	if _, err := os.Stat(SocketPath(dir)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("socket left after a clean stop: %v", err)
	}

	second := startRun(t, dir) // no PUT
	if second.status.Generation != 42 {
		t.Errorf("restarted router serves generation %d, want 42", second.status.Generation)
	}
	status, body := get(t, http.DefaultClient, "http://"+second.status.ListenAddr, "shop.test")
	if status != http.StatusOK || backendOf(t, body) != "b" {
		t.Errorf("after restart: %d %q", status, body)
	}
}

func TestRunRemovesStaleSocketAndRestrictsIt(t *testing.T) {
	dir := shortTempDir(t)
	// A killed router leaves its socket file behind, with nobody answering.
	ln, err := net.Listen("unix", SocketPath(dir))
	if err != nil {
		t.Fatal(err)
	}
	ln.(*net.UnixListener).SetUnlinkOnClose(false)
	ln.Close()
	startRun(t, dir)
	info, err := os.Stat(SocketPath(dir))
	if err != nil || info.Mode().Perm() != 0o600 {
		t.Errorf("socket: %v, %v; want mode 0600", info.Mode(), err)
	}
	data, err := os.ReadFile(filepath.Join(dir, "router.pid"))
	if err != nil || strings.TrimSpace(string(data)) != strconv.Itoa(os.Getpid()) {
		t.Errorf("pid file %q, %v", data, err)
	}
}

func TestRunRefusesSecondRouterOnSameSocket(t *testing.T) {
	dir := shortTempDir(t)
	startRun(t, dir)
	err := New(Config{DataDir: dir, HTTPAddr: "127.0.0.1:0"}).Run(context.Background())
	if jack.ErrorCode(err) != jack.ECONFLICT {
		t.Errorf("second Run: %v, want ECONFLICT", err)
	}
}

func TestRunReportsPortInUse(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	addr := ln.Addr().String()
	err = New(Config{DataDir: shortTempDir(t), HTTPAddr: addr}).Run(context.Background())
	if want := "router could not listen on " + addr + ": address already in use"; err == nil || err.Error() != want {
		t.Errorf("Run: %v, want %q", err, want)
	}
}

func TestShutdownOverSocketStopsRun(t *testing.T) {
	r := startRun(t, shortTempDir(t))
	if err := r.client.Shutdown(context.Background()); err != nil {
		t.Fatal(err)
	}
	select {
	case <-r.done:
		if r.err != nil {
			t.Errorf("Close: %v", r.err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the router did not stop after shutdown")
	}
	if _, err := r.client.Status(context.Background()); jack.ErrorCode(err) != jack.EUNAVAILABLE {
		t.Errorf("status after shutdown: %v, want EUNAVAILABLE", err)
	}
}

func TestClientReportsUnavailableRouter(t *testing.T) {
	c := NewClient(filepath.Join(shortTempDir(t), "router.sock"))
	err := c.SetRoutes(context.Background(), jack.RouteTable{})
	if jack.ErrorCode(err) != jack.EUNAVAILABLE || !strings.Contains(err.Error(), "does not answer") {
		t.Errorf("got %v, want EUNAVAILABLE", err)
	}
}
