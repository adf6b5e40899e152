package logs

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/pkg/stdcopy"
	jack "github.com/jack-paas/jack"
	"github.com/jack-paas/jack/internal/docker"
	"github.com/jack-paas/jack/internal/dockertest"
)

// These tests run the collector against the real engine.

func TestMain(m *testing.M) { dockertest.Main(m) }

// spewImageTag is the test app image these tests run.
const spewImageTag = "jack-test/testapp:logs"

// engineRuntime returns a runtime on the engine whose containers carry the
// test's labels and are removed after it.
func engineRuntime(t *testing.T) *docker.Runtime {
	t.Helper()
	cli := dockertest.Client(t)
	dockertest.Cleanup(t, cli)
	r, err := docker.New("", "logs-test", slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	r.ExtraLabels = dockertest.Labels(t)
	t.Cleanup(func() { r.Close() })
	dockertest.BuildGoImage(t, cli, dockertest.TestApp, spewImageTag)
	return r
}

// startSpew starts a worker of notes/production printing lines 1..n.
func startSpew(t *testing.T, r *docker.Runtime, n int, env ...string) *jack.Container {
	t.Helper()
	c, err := r.Start(context.Background(), &jack.InstanceSpec{
		App: "notes", Env: "production", Process: "worker", Slot: 1, Release: 1, Image: spewImageTag,
		Command: []string{"spew", strconv.Itoa(n)}, Environ: env, StopTimeout: time.Second,
	})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// engineLines returns every line the engine keeps of a container, read
// without Jack's reader.
func engineLines(t *testing.T, r *docker.Runtime, id string) []string {
	t.Helper()
	rc, err := r.Client().ContainerLogs(context.Background(), id, container.LogsOptions{ShowStdout: true, ShowStderr: true})
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	var out bytes.Buffer
	if _, err := stdcopy.StdCopy(&out, &out, rc); err != nil {
		t.Fatal(err)
	}
	return strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
}

// storedRecords counts the records of a log.
func storedRecords(l *envLog) int64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	var n int64
	for _, s := range l.segments {
		n += s.records()
	}
	return n
}

// waitKeptUp waits until n records of a container that writes them and
// exits are stored, and returns how long the container took to write them
// and how long after its start they were all stored. Its patience follows
// the container's own pace, so that a busy machine (which slows the writer
// as much as the collector) does not fail it: the records must never stop
// coming for stallLimit, and must all be stored within keptUpFactor times
// the container's writing time (plus keptUpSlack) of its start.
func waitKeptUp(t *testing.T, r *docker.Runtime, l *envLog, id string, n int64) (wrote, stored time.Duration) {
	t.Helper()
	const (
		stallLimit   = 30 * time.Second
		keptUpFactor = 10
		keptUpSlack  = 30 * time.Second
	)
	var started, finished time.Time
	last, progressed := int64(-1), time.Now()
	for tick := 0; ; tick++ {
		count := storedRecords(l)
		if count > last {
			last, progressed = count, time.Now()
		}
		if tick%25 == 0 || count >= n {
			info, err := r.Client().ContainerInspect(context.Background(), id)
			if err != nil {
				t.Fatal(err)
			}
			started, _ = time.Parse(time.RFC3339Nano, info.State.StartedAt)
			if !info.State.Running {
				finished, _ = time.Parse(time.RFC3339Nano, info.State.FinishedAt)
			}
		}
		if count >= n && !finished.IsZero() {
			return finished.Sub(started), progressed.Sub(started)
		}
		switch {
		case time.Since(progressed) > stallLimit:
			t.Fatalf("%d records stored, want %d: none came for %s", count, n, stallLimit)
		case !finished.IsZero() && time.Since(started) > keptUpFactor*finished.Sub(started)+keptUpSlack:
			t.Fatalf("%d records stored %s after the container started, want %d; it wrote them in %s",
				count, time.Since(started).Round(time.Millisecond), n, finished.Sub(started).Round(time.Millisecond))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func waitRecords(t *testing.T, l *envLog, n int64, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for storedRecords(l) < n {
		if time.Now().After(deadline) {
			t.Fatalf("%d records stored after %s, want %d", storedRecords(l), timeout, n)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestARestartedContainerHasEveryLineStoredOnce(t *testing.T) {
	r := engineRuntime(t)
	s := openStore(t, t.TempDir())
	c := NewCollector(r, s, nil)
	if err := c.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	const n = 100000
	ctr := startSpew(t, r, n, "SPEW_RATE=50000")
	l := envLogOf(t, s)
	waitRecords(t, l, 20000, 20*time.Second) // in the middle of it
	if err := r.Client().ContainerRestart(context.Background(), ctr.ID, container.StopOptions{Timeout: new(int)}); err != nil {
		t.Fatal(err)
	}
	// The second run prints 1..n again; wait for its last line.
	deadline := time.Now().Add(60 * time.Second)
	for {
		got := readAll(t, s, jack.LogQuery{N: 1})
		if len(got) == 1 && got[0] == strconv.Itoa(n) && storedRecords(l) > n {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the second run's last line never came; %d records", storedRecords(l))
		}
		time.Sleep(50 * time.Millisecond)
	}
	want := engineLines(t, r, ctr.ID)
	got := readAll(t, s, jack.LogQuery{Instance: "worker.1", Since: time.Now().Add(-time.Hour)})
	if len(want) <= n {
		t.Fatalf("the engine has %d lines; the container did not restart mid-way", len(want))
	}
	sameLines(t, "stored against the engine's", got, want)
	// The second run is whole: 1..n after the first run's last line.
	second := got[len(got)-n:]
	for i, l := range second {
		if l != strconv.Itoa(i+1) {
			t.Fatalf("second run line %d is %q", i+1, l)
		}
	}
}

func TestAContainerWriting100MBFastIsStoredWholeInBoundedMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("writes 100 MB through the engine")
	}
	r := engineRuntime(t)
	s := openStore(t, t.TempDir())
	c := NewCollector(r, s, nil)
	if err := c.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer c.Close()

	var peak atomic.Uint64
	stop := make(chan struct{})
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		var ms runtime.MemStats
		for {
			runtime.ReadMemStats(&ms)
			if ms.HeapInuse > peak.Load() {
				peak.Store(ms.HeapInuse)
			}
			select {
			case <-stop:
				return
			case <-time.After(20 * time.Millisecond):
			}
		}
	}()
	const n, pad = 1_000_000, 100
	start := time.Now()
	ctr := startSpew(t, r, n, fmt.Sprintf("SPEW_PAD=%d", pad), "SPEW_EXIT=1")
	l := envLogOf(t, s)
	wrote, stored := waitKeptUp(t, r, l, ctr.ID, n)
	close(stop)
	<-sampled
	t.Logf("the container wrote %d lines (%d MB) in %s; all were stored %s after it started (%.2fx its rate); peak heap in use %d MiB",
		n, n*(pad+7)/1_000_000, wrote.Round(time.Millisecond), stored.Round(time.Millisecond), wrote.Seconds()/stored.Seconds(), peak.Load()>>20)
	// Unbounded buffering would hold a good part of the 100 MB.
	if peak.Load() > 64<<20 {
		t.Errorf("peak heap in use %d MiB while collecting 100 MB; want it bounded (< 64 MiB)", peak.Load()>>20)
	}
	next := 1
	err := s.Read(context.Background(), jack.LogQuery{App: "notes", Env: "production", Since: start.Add(-time.Minute)}, func(rec *jack.LogRecord) error {
		if rec == nil {
			return nil
		}
		num, padding, _ := bytes.Cut(rec.Line, []byte(" "))
		if string(num) != strconv.Itoa(next) || len(padding) != pad-1 {
			return fmt.Errorf("line %d is %.20q (%d bytes)", next, rec.Line, len(rec.Line))
		}
		next++
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if next != n+1 {
		t.Fatalf("read back %d lines, want %d", next-1, n)
	}
	_ = ctr
}
