package router

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/jack-paas/jack"
)

// The test binary doubles as the router process that Ensure spawns:
//
//	JACK_ROUTER_TEST_CHILD=1       run the router with the flags it is given
//	JACK_ROUTER_TEST_CHILD=spawner play a daemon that calls Ensure and exits
//
// JACK_ROUTER_TEST_VERSION overrides jack.BuildVersion in the child.
func TestMain(m *testing.M) {
	if v := os.Getenv("JACK_ROUTER_TEST_VERSION"); v != "" && os.Getenv("JACK_ROUTER_TEST_CHILD") != "" {
		jack.BuildVersion = v
	}
	switch os.Getenv("JACK_ROUTER_TEST_CHILD") {
	case "1":
		os.Exit(routerMain(os.Args[1:]))
	case "spawner":
		os.Exit(spawnerMain(os.Args[1:]))
	}
	os.Exit(m.Run())
}

// childConfig reads the router's Config from "router FLAGS...".
func childConfig(args []string) Config {
	if len(args) > 0 && args[0] == "router" {
		args = args[1:]
	}
	cfg, err := ParseArgs(args)
	if err != nil {
		fmt.Fprintln(os.Stderr, "jack:", err)
		os.Exit(2)
	}
	return cfg
}

func routerMain(args []string) int {
	cfg := childConfig(args)
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	cfg.Logger = slog.New(slog.NewTextHandler(os.Stderr, nil))
	m := New(cfg)
	if err := m.Run(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "jack:", err)
		return 1
	}
	<-m.Done()
	if err := m.Close(); err != nil {
		fmt.Fprintln(os.Stderr, "jack:", err)
		return 1
	}
	return 0
}

func spawnerMain(args []string) int {
	cfg := childConfig(args)
	os.Setenv("JACK_ROUTER_TEST_CHILD", "1")
	exe, _ := os.Executable()
	_, err := Ensure(context.Background(), SpawnConfig{Exe: exe, Router: cfg})
	if err != nil {
		fmt.Fprintln(os.Stderr, "spawner:", err)
		return 1
	}
	return 0
}

// routerArgs is the command line of a router serving HTTP on httpAddr
// with its data in dataDir.
func routerArgs(dataDir, httpAddr string) []string {
	return append([]string{"router"}, Config{DataDir: dataDir, HTTPAddr: httpAddr}.Args()...)
}

// shortTempDir returns a temporary folder with a path short enough for a
// unix socket (108 bytes at most).
func shortTempDir(t testing.TB) string {
	dir, err := os.MkdirTemp("", "jr")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	return filepath.Clean(dir)
}
