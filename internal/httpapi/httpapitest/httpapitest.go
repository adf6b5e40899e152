// Package httpapitest runs Jack's API in tests: the real handler over a real
// SQLite store in a temporary folder, with a fake orchestrator that makes
// releases and deployments in the store but starts nothing. It is for tests
// of the HTTP layer and of its clients (the client package, the CLI), not
// of orchestration.
package httpapitest

import (
	"context"
	"net/http/httptest"
	"path/filepath"
	"testing"

	"github.com/jack-paas/jack/internal/httpapi"
	"github.com/jack-paas/jack/internal/logs"
	"github.com/jack-paas/jack/internal/sqlite"
)

// Token is the API token every test server accepts.
const Token = "test-token"

// Server is a running test API.
type Server struct {
	*httptest.Server
	Store        *sqlite.DB
	Orchestrator *Orchestrator
	// Logs holds the environments' logs (no collector runs); Append puts
	// records in.
	Logs *logs.Store
}

// New starts an API on a loopback port, with the router's address given as
// ":8080" so that URLs read http://ENV.APP.localhost:8080. It stops when
// the test ends.
func New(t testing.TB) *Server {
	t.Helper()
	db, err := sqlite.Open(filepath.Join(t.TempDir(), "jack.db"))
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	if err := db.CreateToken(context.Background(), "admin", httpapi.HashToken(Token)); err != nil {
		t.Fatalf("create token: %v", err)
	}
	orch := &Orchestrator{Store: db}
	logStore, err := logs.OpenStore(filepath.Join(t.TempDir(), "logs"), nil)
	if err != nil {
		t.Fatalf("open logs: %v", err)
	}
	drains := logs.NewDrains(logStore, db, nil)
	if err := drains.Start(context.Background()); err != nil {
		t.Fatalf("start drains: %v", err)
	}
	srv := httptest.NewServer(httpapi.New(httpapi.Config{
		Store:        db,
		Orchestrator: orch,
		HTTPAddr:     ":8080",
		Logs:         logs.NewService(logStore, db, drains),
	}))
	t.Cleanup(func() {
		srv.Close()
		drains.Close()
		logStore.Close()
		db.Close()
	})
	return &Server{Server: srv, Store: db, Orchestrator: orch, Logs: logStore}
}
