package router

import (
	"context"
	"flag"
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
//	JACK_ROUTER_TEST_CHILD=1       run the router: Run with --data and --http
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

// childFlags parses "router --data DIR --http ADDR [--handoff]".
func childFlags(args []string) (dataDir, httpAddr string, handoff bool) {
	if len(args) > 0 && args[0] == "router" {
		args = args[1:]
	}
	fs := flag.NewFlagSet("router", flag.ExitOnError)
	fs.StringVar(&dataDir, "data", "", "")
	fs.StringVar(&httpAddr, "http", "", "")
	fs.BoolVar(&handoff, "handoff", false, "")
	fs.Parse(args)
	return dataDir, httpAddr, handoff
}

func routerMain(args []string) int {
	dataDir, httpAddr, handoff := childFlags(args)
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	logger := slog.New(slog.NewTextHandler(os.Stderr, nil))
	if err := Run(ctx, Config{DataDir: dataDir, HTTPAddr: httpAddr, Handoff: handoff, Logger: logger}); err != nil {
		fmt.Fprintln(os.Stderr, "jack:", err)
		return 1
	}
	return 0
}

func spawnerMain(args []string) int {
	dataDir, httpAddr, _ := childFlags(args)
	os.Setenv("JACK_ROUTER_TEST_CHILD", "1")
	exe, _ := os.Executable()
	_, err := Ensure(context.Background(), SpawnConfig{
		Exe: exe, Args: routerArgs(dataDir, httpAddr), DataDir: dataDir, HTTPAddr: httpAddr,
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, "spawner:", err)
		return 1
	}
	return 0
}

func routerArgs(dataDir, httpAddr string) []string {
	return []string{"router", "--data", dataDir, "--http", httpAddr}
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
