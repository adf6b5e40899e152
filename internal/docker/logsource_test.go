package docker

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	jack "github.com/jack-paas/jack"
	"github.com/jack-paas/jack/internal/dockertest"
)

// logsImageTag is the testapp image of the log tests (it has POST /write).
const logsImageTag = "jack-test/testapp:logs"

// write POSTs body to the instance's /write, which prints it as it is.
func write(t *testing.T, c *jack.Container, stream string, body []byte) {
	t.Helper()
	get(t, "http://"+c.Address+"/health") // up
	resp, err := http.Post("http://"+c.Address+"/write?stream="+stream, "application/octet-stream", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
}

// readLines reads a stream until it ends or n lines came, and returns
// copies of them.
func readLines(t *testing.T, s jack.LogStream, n int) []jack.LogLine {
	t.Helper()
	var out []jack.LogLine
	for len(out) < n {
		lines, err := s.Read()
		if errors.Is(err, io.EOF) {
			return out
		} else if err != nil {
			t.Fatalf("Read after %d lines: %v", len(out), err)
		}
		for _, l := range lines {
			l.Line = append([]byte(nil), l.Line...)
			out = append(out, l)
		}
	}
	return out
}

func TestOpenLogsReturnsLinesAsWrittenJoiningWhatTheEngineSplit(t *testing.T) {
	r, cli := newRuntime(t)
	image := dockertest.BuildGoImage(t, cli, dockertest.TestApp, logsImageTag)
	c := start(t, r, webSpec(image, 1))
	s, err := r.OpenLogs(context.Background(), c.ID, time.Time{}, true)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if got := readLines(t, s, 1); string(got[0].Line) != "listening on :8000" {
		t.Fatalf("first line %q", got[0].Line)
	}
	expect := func(stream string, want ...[]byte) []jack.LogLine {
		t.Helper()
		got := readLines(t, s, len(want))
		if len(got) != len(want) {
			t.Fatalf("%d lines, want %d", len(got), len(want))
		}
		for i, w := range want {
			if !bytes.Equal(got[i].Line, w) || got[i].Stream != stream {
				t.Fatalf("line %d: %s %d bytes %.30q, want %s %d bytes %.30q", i, got[i].Stream, len(got[i].Line), got[i].Line, stream, len(w), w)
			}
		}
		return got
	}

	mib := bytes.Repeat([]byte("0123456789abcdef"), 1<<16)
	want := [][]byte{
		[]byte("short"), {}, bytes.Repeat([]byte("x"), 40000), mib,
		bytes.Repeat([]byte("y"), 16384), bytes.Repeat([]byte("z"), 32768), []byte("bad \xff\xfe bytes\r"),
	}
	write(t, c, "stdout", append(bytes.Join(want, []byte("\n")), '\n'))
	lines := expect(jack.StreamStdout, want...)
	write(t, c, "stderr", []byte("on stderr\n"))
	expect(jack.StreamStderr, []byte("on stderr"))

	// A line without newline: the engine holds it until the app's stdout
	// closes, as it exits, and may store it after it ended the follow; a
	// read after the exit has it.
	write(t, c, "stdout", []byte("the last words, without newline"))
	get(t, "http://"+c.Address+"/exit?code=0")
	readLines(t, s, 3)
	waitExited(t, r, c.ID)
	s3, err := r.OpenLogs(context.Background(), c.ID, lines[6].Time, true)
	if err != nil {
		t.Fatal(err)
	}
	defer s3.Close()
	last := readLines(t, s3, 10)
	if len(last) != 4 {
		t.Fatalf("%d lines from the last one on, want 4", len(last))
	}
	if string(last[2].Line) != "exiting with 0" {
		last[2], last[3] = last[3], last[2]
	}
	if string(last[2].Line) != "exiting with 0" || string(last[3].Line) != "the last words, without newline" {
		t.Fatalf("last lines %q and %q", last[2].Line, last[3].Line)
	}

	// Read again from the 1 MiB line's stamp: it comes first (since is
	// inclusive).
	s2, err := r.OpenLogs(context.Background(), c.ID, lines[3].Time, true)
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	again := readLines(t, s2, 1)
	if len(again) != 1 || !bytes.Equal(again[0].Line, mib) {
		t.Fatalf("reading from the 1 MiB line's stamp gave %.30q first", again[0].Line)
	}
}

func TestOpenLogsFollowsARunningContainer(t *testing.T) {
	r, cli := newRuntime(t)
	image := dockertest.BuildGoImage(t, cli, dockertest.TestApp, logsImageTag)
	c := start(t, r, webSpec(image, 1))
	s, err := r.OpenLogs(context.Background(), c.ID, time.Time{}, true)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	readLines(t, s, 1) // listening on :8000
	for i := range 3 {
		msg := fmt.Sprintf("line %d", i)
		get(t, "http://"+c.Address+"/log?msg="+strings.ReplaceAll(msg, " ", "+"))
		if got := readLines(t, s, 1); string(got[0].Line) != msg {
			t.Fatalf("followed %q, want %q", got[0].Line, msg)
		}
	}
}

func TestLogContainersAreTheEnvironmentsContainers(t *testing.T) {
	r, cli := newRuntime(t)
	image := dockertest.BuildGoImage(t, cli, dockertest.TestApp, logsImageTag)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	starts := r.WatchLogContainers(ctx)
	c := start(t, r, webSpec(image, 2))
	select {
	case id := <-starts:
		if id != c.ID {
			t.Fatalf("start of %.12s, want %.12s", id, c.ID)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no start event")
	}
	list, err := r.LogContainers(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 1 {
		t.Fatalf("%d containers, want 1", len(list))
	}
	want := jack.LogContainer{ID: c.ID, App: "notes", Env: "production", Process: "web", Instance: "web.2", Release: 3, Running: true}
	if *list[0] != want {
		t.Fatalf("listed %+v, want %+v", *list[0], want)
	}
	got, err := r.InspectLogContainer(ctx, c.ID)
	if err != nil || *got != want {
		t.Fatalf("inspected %+v, %v", got, err)
	}
	r.Stop(ctx, c.ID, time.Second)
	if _, err := r.InspectLogContainer(ctx, c.ID); jack.ErrorCode(err) != jack.ENOTFOUND {
		t.Fatalf("inspect a removed container: %v", err)
	}
	if _, err := r.OpenLogs(ctx, c.ID, time.Time{}, true); jack.ErrorCode(err) != jack.ENOTFOUND {
		t.Fatalf("open the logs of a removed container: %v", err)
	}
}

func TestStopLetsTheCollectorReadBeforeRemoving(t *testing.T) {
	r, cli := newRuntime(t)
	image := dockertest.BuildGoImage(t, cli, dockertest.TestApp, logsImageTag)
	c := start(t, r, webSpec(image, 1))
	// Stopped before it has set up its SIGTERM handler, the app would die
	// without its last line: wait until it answers.
	deadline := time.Now().Add(20 * time.Second)
	for {
		resp, err := http.Get("http://" + c.Address + "/health")
		if err == nil {
			resp.Body.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the app never answered: %v", err)
		}
		time.Sleep(10 * time.Millisecond)
	}
	var lastLine string
	r.BeforeRemove = func(ctx context.Context, id string) {
		s, err := r.OpenLogs(ctx, id, time.Time{}, true)
		if err != nil {
			t.Errorf("open logs before removal: %v", err)
			return
		}
		defer s.Close()
		for _, l := range readLines(t, s, 100) {
			lastLine = string(l.Line)
		}
	}
	if err := r.Stop(context.Background(), c.ID, 5*time.Second); err != nil {
		t.Fatal(err)
	}
	if lastLine != "stopped" {
		t.Fatalf("last line read before removal %q, want the app's last, \"stopped\"", lastLine)
	}
}
