package docker

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/docker/docker/client"
	jack "github.com/jack-paas/jack"
	"github.com/jack-paas/jack/internal/dockertest"
)

func TestMain(m *testing.M) { dockertest.Main(m) }

// testImageTag is the testapp image these tests run.
const testImageTag = "jack-test/testapp:docker"

// testOwner is the installation ID of the tests' runtimes.
const testOwner = "test-owner"

// newRuntime returns a Runtime on the local engine whose containers carry
// the test's labels and are removed when the test ends, with a raw client
// for checks.
func newRuntime(t *testing.T) (*Runtime, *client.Client) {
	t.Helper()
	return newRuntimeOf(t, testOwner)
}

// newRuntimeOf returns a test's Runtime of another installation.
func newRuntimeOf(t *testing.T, owner string) (*Runtime, *client.Client) {
	t.Helper()
	cli := dockertest.Client(t)
	dockertest.Cleanup(t, cli)
	r, err := New("", owner, slog.New(slog.NewTextHandler(testWriter{t}, nil)))
	if err != nil {
		t.Fatal(err)
	}
	r.ExtraLabels = dockertest.Labels(t)
	t.Cleanup(func() { r.Close() })
	return r, cli
}

// testImage returns the ID of the testapp image.
func testImage(t *testing.T, cli *client.Client) string {
	t.Helper()
	return dockertest.BuildGoImage(t, cli, dockertest.TestApp, testImageTag)
}

// webSpec returns the spec of a testapp web instance; env is added to its
// environment.
func webSpec(image string, slot int, env ...string) *jack.InstanceSpec {
	return &jack.InstanceSpec{
		App: "notes", Env: "production", Process: "web", Slot: slot,
		Release: 3, Version: "v2", Deployment: 42, Spec: "abc123",
		Image:       image,
		Environ:     append([]string{"PORT=8000", "JACK_RELEASE=3", "JACK_PROCESS=web", "APP_VERSION=v2"}, env...),
		Port:        8000,
		StopTimeout: 5 * time.Second,
	}
}

// start starts an instance, failing the test if it does not start.
func start(t *testing.T, r *Runtime, spec *jack.InstanceSpec) *jack.Container {
	t.Helper()
	c, err := r.Start(context.Background(), spec)
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	return c
}

// get polls url until it answers, then returns the status and body.
func get(t *testing.T, url string) (int, string) {
	t.Helper()
	client := &http.Client{Timeout: 5 * time.Second}
	deadline := time.Now().Add(15 * time.Second)
	for {
		resp, err := client.Get(url)
		if err == nil {
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			return resp.StatusCode, string(body)
		}
		if time.Now().After(deadline) {
			t.Fatalf("GET %s: %v", url, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// waitExited polls the instance until it is not running and returns it.
func waitExited(t *testing.T, r *Runtime, id string) *jack.Container {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		c, err := r.Inspect(context.Background(), id)
		if err != nil {
			t.Fatalf("Inspect: %v", err)
		}
		if !c.Running {
			return c
		}
		if time.Now().After(deadline) {
			t.Fatalf("instance %.12s still running after 15s", id)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// testWriter sends the runtime's log to the test's.
type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSuffix(string(p), "\n"))
	return len(p), nil
}
