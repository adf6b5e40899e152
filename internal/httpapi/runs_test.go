package httpapi_test

import (
	"bytes"
	"context"
	"io"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jack-paas/jack"
	"github.com/jack-paas/jack/client"
	"github.com/jack-paas/jack/internal/httpapi"
	"github.com/jack-paas/jack/internal/httpapi/httpapitest"
	"github.com/jack-paas/jack/internal/sqlite"
)

// fakeRunner runs "upper" (stdin upper-cased to stdout, "done" to stderr,
// exit 5), "wait" (until stopped, then exit 130) and refuses anything else.
type fakeRunner struct{ jack.Runner }

func (fakeRunner) Run(ctx context.Context, req jack.RunRequest, streams jack.OneOffIO) (*jack.Run, error) {
	run := &jack.Run{ID: 7, Kind: jack.KindRun, Command: req.Command, State: jack.RunExited}
	switch req.Command[0] {
	case "upper":
		streams.Started("c1")
		in, _ := io.ReadAll(streams.Stdin)
		streams.Stdout.Write(bytes.ToUpper(in))
		streams.Stderr.Write([]byte("done\n"))
		run.ExitCode = 5
	case "wait":
		streams.Started("c2")
		streams.Stdout.Write([]byte("waiting\n"))
		<-ctx.Done()
		run.State, run.ExitCode, run.Reason = jack.RunFailed, 130, "stopped"
	default:
		return nil, jack.Errorf(jack.EINVALID, "process %s is not in v1's manifest", req.Process)
	}
	return run, nil
}

func newRunAPI(t *testing.T) *client.Client {
	t.Helper()
	db, err := sqlite.Open(filepath.Join(t.TempDir(), "jack.db"))
	if err != nil {
		t.Fatal(err)
	}
	db.CreateToken(context.Background(), "admin", httpapi.HashToken(httpapitest.Token))
	srv := httptest.NewServer(httpapi.New(httpapi.Config{Store: db, Orchestrator: &httpapitest.Orchestrator{Store: db}, Runner: fakeRunner{}}))
	t.Cleanup(func() { srv.Close(); db.Close() })
	c := client.New(srv.URL, httpapitest.Token)
	mustEnv(t, c, "notes", "production")
	return c
}

func TestRunStreamsInputOutputAndExitCode(t *testing.T) {
	c := newRunAPI(t)
	var stdout, stderr bytes.Buffer
	run, err := c.Run(context.Background(), jack.RunRequest{App: "notes", Env: "production", Command: []string{"upper"}, Stdin: true},
		client.RunStreams{Stdin: strings.NewReader("hello\nworld\n"), Stdout: &stdout, Stderr: &stderr})
	if err != nil || run.ExitCode != 5 || stdout.String() != "HELLO\nWORLD\n" || stderr.String() != "done\n" {
		t.Fatalf("run %+v, %v; stdout %q, stderr %q", run, err, stdout.String(), stderr.String())
	}
}

func TestRunStopsOnCtrlC(t *testing.T) {
	c := newRunAPI(t)
	stop := make(chan struct{})
	var out syncBuffer
	go func() {
		for !strings.Contains(out.String(), "waiting") {
			time.Sleep(5 * time.Millisecond)
		}
		close(stop)
	}()
	run, err := c.Run(context.Background(), jack.RunRequest{App: "notes", Env: "production", Command: []string{"wait"}},
		client.RunStreams{Stdout: &out, Stop: stop})
	if err != nil || run.ExitCode != 130 || run.Reason != "stopped" {
		t.Fatalf("run %+v, %v", run, err)
	}
}

func TestRunErrorsBeforeTheStartAreAnswers(t *testing.T) {
	c := newRunAPI(t)
	_, err := c.Run(context.Background(), jack.RunRequest{App: "notes", Env: "production", Command: []string{"x"}, Process: "worker"}, client.RunStreams{})
	if jack.ErrorCode(err) != jack.EINVALID || err.Error() != "process worker is not in v1's manifest" {
		t.Fatalf("err = %v", err)
	}
	if _, err := c.Run(context.Background(), jack.RunRequest{App: "notes", Env: "nope", Command: []string{"upper"}}, client.RunStreams{}); jack.ErrorCode(err) != jack.ENOTFOUND {
		t.Fatalf("unknown environment: %v", err)
	}
	srv := c.BaseURL
	status, body := do(t, "POST", srv+"/v1/apps/notes/envs/production/runs", httpapitest.Token, `{"command":["upper"]}`)
	if status != 400 || !strings.Contains(errorBody(t, body).Message, "Upgrade: jack-run") {
		t.Fatalf("without the upgrade: %d %s", status, body)
	}
}

// syncBuffer is a buffer written and read by different goroutines.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
