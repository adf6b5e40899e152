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
	"github.com/jack-paas/jack/internal/sqlite"
)

// Token is the API token every test server accepts.
const Token = "test-token"

// Server is a running test API.
type Server struct {
	*httptest.Server
	Store        *sqlite.DB
	Orchestrator *Orchestrator
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
	srv := httptest.NewServer(httpapi.New(httpapi.Config{
		Store:        db,
		Orchestrator: orch,
		HTTPAddr:     ":8080",
	}))
	t.Cleanup(func() {
		srv.Close()
		db.Close()
	})
	return &Server{Server: srv, Store: db, Orchestrator: orch}
}
