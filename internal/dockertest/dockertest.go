// Package dockertest holds what every test that talks to the Docker engine
// shares: a client that fails the test when the engine is down, images built
// from Go packages FROM scratch (nothing can be pulled here), and labels that
// mark each test's containers so that they are removed after it, even when
// many test binaries use the engine at once.
//
// A test package that starts containers has
//
//	func TestMain(m *testing.M) { dockertest.Main(m) }
//
// and in each test
//
//	cli := dockertest.Client(t)
//	dockertest.Cleanup(t, cli)
//	... create containers with dockertest.Labels(t) ...
package dockertest

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/docker/docker/client"
)

// Connect returns a client of the engine DOCKER_HOST or the local socket
// names, after checking that the engine answers.
func Connect(ctx context.Context) (*client.Client, error) {
	cli, err := client.NewClientWithOpts(client.FromEnv, client.WithAPIVersionNegotiation())
	if err != nil {
		return nil, fmt.Errorf("make Docker client: %w", err)
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if _, err := cli.Ping(ctx); err != nil {
		cli.Close()
		return nil, err
	}
	return cli, nil
}

// Client returns a client of the engine, closed when the test ends. It
// fails the test when the engine does not answer, since Jack's tests need
// it; under `go test -short` it skips the test instead.
func Client(t testing.TB) *client.Client {
	t.Helper()
	cli, err := Connect(context.Background())
	if err != nil {
		if testing.Short() {
			t.Skipf("Docker engine not reachable (%v); skipped under -short", err)
		}
		t.Fatalf("Docker engine not reachable: %v; .ci/run starts one", err)
	}
	t.Cleanup(func() { cli.Close() })
	return cli
}

// Main runs the tests, then removes every container and network this test
// process created and the leftovers of test processes that died on this
// machine. Call it from TestMain.
func Main(m *testing.M) {
	code := m.Run()
	if cli, err := Connect(context.Background()); err == nil {
		if err := RemoveAll(context.Background(), cli); err != nil {
			fmt.Fprintln(os.Stderr, "dockertest:", err)
		}
		cli.Close()
	}
	os.Exit(code)
}
