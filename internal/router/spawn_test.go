package router

import (
	"context"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jack-paas/jack"
)

// spawnConfig runs this test binary as the router (see TestMain).
func spawnConfig(t *testing.T, dataDir, httpAddr string) SpawnConfig {
	t.Setenv("JACK_ROUTER_TEST_CHILD", "1")
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	return SpawnConfig{
		Exe: exe, Router: Config{DataDir: dataDir, HTTPAddr: httpAddr},
		CheckInterval: 20 * time.Millisecond,
	}
}

// stopRoutersAtCleanup stops whatever router answers in dataDir when the
// test ends, and kills the processes in pids if they are still there.
func stopRoutersAtCleanup(t *testing.T, dataDir string, pids *[]int) {
	t.Cleanup(func() {
		c := NewClient(SocketPath(dataDir))
		defer c.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if st, err := c.Status(ctx); err == nil {
			*pids = append(*pids, st.PID)
			if err := stopRouter(ctx, c, st.PID); err != nil {
				t.Errorf("stop router %d: %v", st.PID, err)
			}
		}
		for _, pid := range *pids {
			if !processGone(pid) {
				t.Errorf("router %d still running at the end of the test; killing it", pid)
				syscall.Kill(pid, syscall.SIGKILL)
			}
		}
	})
}

// sessionOf returns the session ID of pid.
func sessionOf(t *testing.T, pid int) int {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "stat"))
	if err != nil {
		t.Fatal(err)
	}
	fields := strings.Fields(string(data[strings.LastIndexByte(string(data), ')')+1:]))
	sid, err := strconv.Atoi(fields[3]) // state ppid pgrp session
	if err != nil {
		t.Fatal(err)
	}
	return sid
}

func mustStatus(t *testing.T, c *Client) Status {
	t.Helper()
	st, err := c.Status(context.Background())
	if err != nil {
		t.Fatalf("status: %v", err)
	}
	return st
}

func TestEnsureStartsRouterThenAdoptsIt(t *testing.T) {
	dir, addr := shortTempDir(t), deadAddr(t)
	var pids []int
	stopRoutersAtCleanup(t, dir, &pids)
	cfg := spawnConfig(t, dir, addr)
	ctx := context.Background()

	first, err := Ensure(ctx, cfg)
	if err != nil {
		t.Fatalf("ensure: %v", err)
	}
	st := mustStatus(t, first)
	pids = append(pids, st.PID)
	if st.PID == os.Getpid() || st.HTTPAddr != addr || st.Version != jack.BuildVersion {
		t.Fatalf("status %+v", st)
	}
	if sid := sessionOf(t, st.PID); sid != st.PID {
		t.Errorf("router is in session %d, want its own (%d): a Ctrl-C to the daemon would reach it", sid, st.PID)
	}

	second, err := Ensure(ctx, cfg)
	if err != nil {
		t.Fatalf("second ensure: %v", err)
	}
	if again := mustStatus(t, second); again.PID != st.PID {
		t.Errorf("second Ensure started router %d instead of adopting %d", again.PID, st.PID)
	}

	// The clients go away; the router serves on.
	first.Close()
	second.Close()
	status, body := get(t, http.DefaultClient, "http://"+addr, "nothing.test")
	if status != http.StatusNotFound || !strings.Contains(body, "No app is served at nothing.test") {
		t.Errorf("router responded %d %q", status, body)
	}
	logged, _ := os.ReadFile(filepath.Join(dir, "router.log"))
	if !strings.Contains(string(logged), "router serving") {
		t.Errorf("router.log does not have the router's output: %q", logged)
	}
}

func TestRouterOutlivesTheProcessThatStartedIt(t *testing.T) {
	dir, addr := shortTempDir(t), deadAddr(t)
	var pids []int
	stopRoutersAtCleanup(t, dir, &pids)
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	spawner := exec.Command(exe, routerArgs(dir, addr)...)
	spawner.Env = append(os.Environ(), "JACK_ROUTER_TEST_CHILD=spawner")
	if out, err := spawner.CombinedOutput(); err != nil {
		t.Fatalf("spawner: %v: %s", err, out)
	}
	// The spawner (playing the daemon) has exited.
	c := NewClient(SocketPath(dir))
	defer c.Close()
	st := mustStatus(t, c)
	pids = append(pids, st.PID)
	if st.PID == spawner.Process.Pid || sessionOf(t, st.PID) != st.PID {
		t.Errorf("router %d is not on its own", st.PID)
	}
	if status, _ := get(t, http.DefaultClient, "http://"+addr, "nothing.test"); status != http.StatusNotFound {
		t.Errorf("router responded %d, want its 404", status)
	}
}

func TestEnsureReplacesRouterOfAnotherVersionOrAddress(t *testing.T) {
	dir, addr := shortTempDir(t), deadAddr(t)
	var pids []int
	stopRoutersAtCleanup(t, dir, &pids)
	cfg := spawnConfig(t, dir, addr)
	ctx := context.Background()
	built := jack.BuildVersion
	t.Cleanup(func() { jack.BuildVersion = built })
	setVersion := func(v string) {
		jack.BuildVersion = v
		t.Setenv("JACK_ROUTER_TEST_VERSION", v)
	}

	setVersion("v1")
	c, err := Ensure(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	v1 := mustStatus(t, c)
	pids = append(pids, v1.PID)

	setVersion("v2")
	if c, err = Ensure(ctx, cfg); err != nil {
		t.Fatalf("ensure v2: %v", err)
	}
	v2 := mustStatus(t, c)
	pids = append(pids, v2.PID)
	if v2.Version != "v2" || v2.PID == v1.PID {
		t.Errorf("after upgrade: %+v (v1 was %d)", v2, v1.PID)
	}
	// The old router handed its socket over; it exits once its requests
	// and idle connections are done.
	waitFor(t, "the old router to exit", func() bool { return processGone(v1.PID) })

	// Another count of event loops is another router too.
	t.Setenv(loopsEnv, "2")
	if c, err = Ensure(ctx, cfg); err != nil {
		t.Fatalf("ensure with 2 loops: %v", err)
	}
	looped := mustStatus(t, c)
	pids = append(pids, looped.PID)
	if looped.PID == v2.PID || !strings.Contains(looped.Settings, "loops=2") {
		t.Errorf("with JACK_ROUTER_LOOPS=2: %+v (previous %d)", looped, v2.PID)
	}
	waitFor(t, "the router with the default loops to exit", func() bool { return processGone(v2.PID) })
	v2 = looped

	other := deadAddr(t)
	cfg = spawnConfig(t, dir, other)
	if c, err = Ensure(ctx, cfg); err != nil {
		t.Fatalf("ensure on %s: %v", other, err)
	}
	moved := mustStatus(t, c)
	pids = append(pids, moved.PID)
	if moved.HTTPAddr != other || moved.PID == v2.PID || !processGone(v2.PID) {
		t.Errorf("after moving: %+v (previous %d)", moved, v2.PID)
	}
	if status, _ := get(t, http.DefaultClient, "http://"+other, "nothing.test"); status != http.StatusNotFound {
		t.Errorf("router on %s responded %d", other, status)
	}
}

func TestEnsureReportsPortInUse(t *testing.T) {
	dir := shortTempDir(t)
	var pids []int
	stopRoutersAtCleanup(t, dir, &pids)
	taken := newBackend(t, "squatter")
	addr := taken.addr()
	_, err := Ensure(context.Background(), spawnConfig(t, dir, addr))
	if want := "router could not listen on " + addr + ": address already in use"; err == nil || err.Error() != want {
		t.Errorf("ensure: %v, want %q", err, want)
	}
}

func TestWatchdogRestartsKilledRouter(t *testing.T) {
	b := newBackend(t, "b")
	dir, addr := shortTempDir(t), deadAddr(t)
	var pids []int
	stopRoutersAtCleanup(t, dir, &pids)
	cfg := spawnConfig(t, dir, addr)
	c, err := Ensure(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	killed := mustStatus(t, c)
	pids = append(pids, killed.PID)
	table := jack.RouteTable{Generation: 7, Routes: []jack.Route{newRoute("shop/prod", []string{"shop.test"}, b.upstream("b"))}}
	if err := c.SetRoutes(context.Background(), table); err != nil {
		t.Fatal(err)
	}

	ctx, cancel := context.WithCancel(context.Background())
	restarted := make(chan struct{}, 10)
	watchdogDone := make(chan struct{})
	go func() {
		Watchdog(ctx, c, cfg, func(context.Context) { restarted <- struct{}{} })
		close(watchdogDone)
	}()
	defer func() { cancel(); <-watchdogDone }()

	if err := syscall.Kill(killed.PID, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	select {
	case <-restarted:
	case <-time.After(15 * time.Second):
		t.Fatal("the watchdog did not restart the router")
	}
	st := mustStatus(t, c) // the daemon's client reaches the new router
	pids = append(pids, st.PID)
	if st.PID == killed.PID || st.Generation != 7 {
		t.Errorf("restarted router: %+v; want a new process serving the saved generation 7", st)
	}
	status, body := get(t, http.DefaultClient, "http://"+addr, "shop.test")
	if status != http.StatusOK || backendOf(t, body) != "b" {
		t.Errorf("restarted router responded %d %q", status, body)
	}
	if len(restarted) != 0 {
		t.Errorf("the watchdog restarted the router %d more times", len(restarted))
	}
}
