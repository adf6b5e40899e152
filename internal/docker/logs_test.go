package docker

import (
	"context"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	jack "github.com/jack-paas/jack"
)

// waitLogLine polls the instance's output until a line contains s.
func waitLogLine(t *testing.T, r *Runtime, id, s string) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		lines, err := r.Logs(context.Background(), id, 0)
		if err != nil {
			t.Fatalf("Logs: %v", err)
		}
		if slices.ContainsFunc(lines, func(l string) bool { return strings.Contains(l, s) }) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("no line with %q in %q", s, lines)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func TestLogsReturnsTheLastLinesOfBothStreamsInOrder(t *testing.T) {
	r, cli := newRuntime(t)
	c := start(t, r, webSpec(testImage(t, cli), 1))
	write := func(msg, stream string) {
		get(t, "http://"+c.Address+"/log?"+url.Values{"msg": {msg}, "stream": {stream}}.Encode())
		// Each line is in the log before the next is written, so that the
		// two streams' order is the order of writing.
		waitLogLine(t, r, c.ID, msg)
	}
	write("line 1", "stdout")
	write("line 2", "stderr")
	write("line 3", "stdout")
	write("line 4", "stderr")

	lines, err := r.Logs(context.Background(), c.ID, 3)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"line 2", "line 3", "line 4"}; !slices.Equal(lines, want) {
		t.Errorf("Logs(3) = %q, want %q", lines, want)
	}
	all, err := r.Logs(context.Background(), c.ID, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != 5 || !strings.HasPrefix(all[0], "listening on :8000") {
		t.Errorf("Logs(0) = %q; want every line since the start", all)
	}
}

func TestLogsOfAGoneInstanceIsNotFound(t *testing.T) {
	r, _ := newRuntime(t)
	_, err := r.Logs(context.Background(), "0123456789ab0123456789ab", 10)
	if jack.ErrorCode(err) != jack.ENOTFOUND {
		t.Errorf("Logs of a missing container = %v (%s); want ENOTFOUND", err, jack.ErrorCode(err))
	}
}
