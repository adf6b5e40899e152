package server

import (
	"bytes"
	"context"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/jack-paas/jack/internal/dockertest"
	"github.com/jack-paas/jack/internal/router"
)

// The test binary doubles as the router process the server starts: with
// JACK_SERVER_TEST_ROUTER=1 it runs `router FLAGS...` as `jack router`
// does.
func TestMain(m *testing.M) {
	if os.Getenv("JACK_SERVER_TEST_ROUTER") == "1" {
		os.Exit(routerMain(os.Args[2:]))
	}
	os.Exit(m.Run())
}

func routerMain(args []string) int {
	cfg, err := router.ParseArgs(args)
	if err != nil {
		return 2
	}
	cfg.Logger = slog.New(slog.NewTextHandler(os.Stderr, nil))
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM)
	defer stop()
	r := router.New(cfg)
	if err := r.Run(ctx); err != nil {
		return 1
	}
	<-r.Done()
	if err := r.Close(); err != nil {
		return 1
	}
	return 0
}

// mustRun starts a server on port 0 with data in dir, as `jack server` does.
func mustRun(t *testing.T, dir string) *Main {
	t.Helper()
	dockertest.Client(t) // fails clearly when no engine answers
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv("JACK_SERVER_TEST_ROUTER", "1")
	m := New(Config{
		DataDir: dir, APIAddr: "127.0.0.1:0", HTTPAddr: "127.0.0.1:0", Exe: exe,
		NoLocalPointer: true, Logger: slog.New(slog.DiscardHandler),
	})
	if err := m.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		m.Close()
		c := router.NewClient(router.SocketPath(dir))
		c.Shutdown(context.Background())
		c.Close()
	})
	return m
}

func TestAdminTokenIsWrittenOnceToAnOwnerOnlyFileAndStoredHashed(t *testing.T) {
	dir := t.TempDir()
	m := mustRun(t, dir)
	info, err := os.Stat(m.TokenFile())
	if err != nil {
		t.Fatal(err)
	}
	if info.Mode().Perm() != 0o600 {
		t.Fatalf("token file mode %v; want 0600", info.Mode().Perm())
	}
	raw, _ := os.ReadFile(m.TokenFile())
	token := strings.TrimSpace(string(raw))
	if !strings.HasPrefix(token, "jack_") || len(token) < 40 {
		t.Fatalf("token %q", token)
	}
	for _, f := range []string{"jack.db", "jack.db-wal"} {
		db, _ := os.ReadFile(filepath.Join(dir, f))
		if bytes.Contains(db, []byte(token)) {
			t.Fatalf("%s holds the token in clear", f)
		}
	}

	get := func(tok string) int {
		req, _ := http.NewRequest(http.MethodGet, m.APIURL()+"/v1/apps", nil)
		if tok != "" {
			req.Header.Set("Authorization", "Bearer "+tok)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if code := get(""); code != http.StatusUnauthorized {
		t.Fatalf("no token: %d", code)
	}
	if code := get("jack_wrong"); code != http.StatusUnauthorized {
		t.Fatalf("wrong token: %d", code)
	}
	if code := get(token); code != http.StatusOK {
		t.Fatalf("admin token: %d", code)
	}

	// A second start keeps the token: it was written once.
	m.Close()
	m2 := mustRun(t, dir)
	again, _ := os.ReadFile(m2.TokenFile())
	if string(again) != string(raw) {
		t.Fatal("the token file was rewritten on the second start")
	}
}

func TestTheAPIListensOnLoopbackByDefault(t *testing.T) {
	m := New(Config{})
	if m.cfg.APIAddr != "127.0.0.1:7070" {
		t.Fatalf("default API address %q", m.cfg.APIAddr)
	}
}
