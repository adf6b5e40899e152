package logs

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	jack "github.com/jack-paas/jack"
)

const fakeID = "c0ffee0000000000000000000000000000000000000000000000000000000001"

// startCollector starts a collector of the engine into a store in dir.
func startCollector(t *testing.T, e *fakeEngine, dir string) (*Store, *Collector) {
	t.Helper()
	s := openStore(t, dir)
	c := NewCollector(e, s, nil)
	c.ResyncInterval = 50 * time.Millisecond
	c.StallCheck = 20 * time.Millisecond
	if err := c.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return s, c
}

// numbered writes lines "n" from..to of a container, a few sharing each
// stamp (as the chunks of a long line do), stderr ones stamped a little
// before the stdout ones written just before them (as the engine's two
// copiers can).
func numbered(e *fakeEngine, id string, from, to int) {
	at := time.Now()
	for n := from; n <= to; n++ {
		if n%5 != 0 {
			at = at.Add(time.Duration(n%3) * time.Microsecond)
		}
		stream, stamp := jack.StreamStdout, at
		if n%7 == 0 {
			stream, stamp = jack.StreamStderr, at.Add(-300*time.Microsecond)
		}
		e.write(id, stream, stamp, fmt.Sprint(n))
	}
}

// storedLines returns the lines of notes/production in the order the log
// holds them (reads sort them by stamp; these tests check what was stored).
func storedLines(t *testing.T, s *Store) []string {
	t.Helper()
	l := envLogOf(t, s)
	end, _ := l.end()
	it := l.iterator(l.start(), end, nil)
	var out []string
	for {
		r, _, ok, err := it.next()
		if err != nil {
			t.Fatal(err)
		}
		if !ok {
			return out
		}
		out = append(out, string(r.Line))
	}
}

// waitLines waits until the store holds count lines of notes/production
// and returns them.
func waitLines(t *testing.T, s *Store, count int) []string {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		got := storedLines(t, s)
		if len(got) >= count || time.Now().After(deadline) {
			return got
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// exactly checks that lines are "1".."n", each once, in order.
func exactly(t *testing.T, got []string, n int) {
	t.Helper()
	if len(got) != n {
		t.Fatalf("%d lines stored, want %d", len(got), n)
	}
	for i, l := range got {
		if l != fmt.Sprint(i+1) {
			t.Fatalf("line %d is %q, want %d (around it: %q)", i, l, i+1, got[max(0, i-3):min(len(got), i+3)])
		}
	}
}

func TestCollectorKeepsEveryLineOnceThroughAnEngineRestart(t *testing.T) {
	e := newFakeEngine()
	e.add(fakeID, "web.1")
	numbered(e, fakeID, 1, 500)
	s, _ := startCollector(t, e, t.TempDir())
	exactly(t, waitLines(t, s, 500), 500)

	e.setDown(true)
	numbered(e, fakeID, 501, 1000) // written while the collector can't read
	time.Sleep(20 * time.Millisecond)
	e.setDown(false)
	numbered(e, fakeID, 1001, 1500)
	exactly(t, waitLines(t, s, 1500), 1500)
}

func TestCollectorResumesAfterTheDaemonRestarts(t *testing.T) {
	dir := t.TempDir()
	e := newFakeEngine()
	e.add(fakeID, "web.1")
	numbered(e, fakeID, 1, 300)
	s, c := startCollector(t, e, dir)
	exactly(t, waitLines(t, s, 300), 300)
	c.Close()
	s.Close()

	numbered(e, fakeID, 301, 600) // while the daemon is down
	s2, _ := startCollector(t, e, dir)
	numbered(e, fakeID, 601, 900)
	exactly(t, waitLines(t, s2, 900), 900)
}

func TestCollectorFollowsAContainerThatRestarts(t *testing.T) {
	e := newFakeEngine()
	e.add(fakeID, "web.1")
	s, _ := startCollector(t, e, t.TempDir())
	numbered(e, fakeID, 1, 100)
	exactly(t, waitLines(t, s, 100), 100)
	e.setRunning(fakeID, false)
	time.Sleep(20 * time.Millisecond)
	numbered(e, fakeID, 101, 200) // what it writes as it starts again
	e.setRunning(fakeID, true)
	numbered(e, fakeID, 201, 300)
	exactly(t, waitLines(t, s, 300), 300)
}

func TestFinishReturnsOnceTheLastLinesAreStored(t *testing.T) {
	e := newFakeEngine()
	e.add(fakeID, "web.1")
	s, c := startCollector(t, e, t.TempDir())
	numbered(e, fakeID, 1, 1000)
	e.setRunning(fakeID, false)
	c.Finish(context.Background(), fakeID)
	exactly(t, storedLines(t, s), 1000)

	// A container the collector never saw (it started and stopped between
	// two lists) is read whole too.
	other := strings.Replace(fakeID, "c0ffee", "beef00", 1)
	e.add(other, "worker.1")
	e.write(other, jack.StreamStdout, time.Now(), "the only line")
	e.setRunning(other, false)
	c.Finish(context.Background(), other)
	if got := readAll(t, s, jack.LogQuery{Process: "worker"}); len(got) != 1 || got[0] != "the only line" {
		t.Fatalf("worker lines %q", got)
	}
}

func TestCollectorForgetsRemovedContainers(t *testing.T) {
	e := newFakeEngine()
	e.add(fakeID, "web.1")
	s, c := startCollector(t, e, t.TempDir())
	numbered(e, fakeID, 1, 10)
	exactly(t, waitLines(t, s, 10), 10)
	e.setRunning(fakeID, false)
	c.Finish(context.Background(), fakeID)
	e.remove(fakeID)
	l := envLogOf(t, s)
	deadline := time.Now().Add(5 * time.Second)
	for len(l.sources()) > 0 {
		if time.Now().After(deadline) {
			t.Fatalf("cursors of a removed container kept: %v", l.sources())
		}
		time.Sleep(10 * time.Millisecond)
	}
	exactly(t, storedLines(t, s), 10) // its lines stay
	if got := readAll(t, s, jack.LogQuery{Instance: "web.1"}); len(got) != 10 {
		t.Fatalf("lines of web.1: %d", len(got))
	}
}

func TestCollectorOpensAStalledStreamAgain(t *testing.T) {
	e := newFakeEngine()
	e.stallAfter = 40
	e.add(fakeID, "web.1")
	s, _ := startCollector(t, e, t.TempDir())
	for n := 1; n <= 500; n += 50 {
		numbered(e, fakeID, n, n+49) // each round stalls the stream open then
		time.Sleep(30 * time.Millisecond)
	}
	exactly(t, waitLines(t, s, 500), 500)
}

func TestAStreamThatGoesBackStoresNothingTwice(t *testing.T) {
	e := newFakeEngine()
	e.goBackAt = 300 // then the first 300 lines, 3 seconds of them, come again
	e.add(fakeID, "web.1")
	old := time.Now().Add(-10 * time.Second)
	for n := 1; n <= 300; n++ {
		e.write(fakeID, jack.StreamStdout, old.Add(time.Duration(n)*10*time.Millisecond), fmt.Sprint(n))
	}
	s, _ := startCollector(t, e, t.TempDir())
	exactly(t, waitLines(t, s, 300), 300)
	numbered(e, fakeID, 301, 600)
	exactly(t, waitLines(t, s, 600), 600)
}

func TestAStreamThatAsksToBeReopenedLosesNothing(t *testing.T) {
	e := newFakeEngine()
	e.reopenAfter = 30
	e.add(fakeID, "web.1")
	s, _ := startCollector(t, e, t.TempDir())
	for n := 1; n <= 500; n += 50 {
		numbered(e, fakeID, n, n+49)
		time.Sleep(10 * time.Millisecond)
	}
	exactly(t, waitLines(t, s, 500), 500)
}

func TestASlowEngineIsGivenLongerToReachTheCursor(t *testing.T) {
	e := newFakeEngine()
	e.stallAfter = 40
	e.openDelay = 200 * time.Millisecond // ten times the stall check
	e.add(fakeID, "web.1")
	s, _ := startCollector(t, e, t.TempDir())
	numbered(e, fakeID, 1, 200) // each stream stalls after 40
	exactly(t, waitLines(t, s, 200), 200)
}

func TestAFragileFollowIsNotUsedWhileBehind(t *testing.T) {
	e := newFakeEngine()
	e.fragile = true
	e.add(fakeID, "web.1")
	// Lines from well before now: a following stream would be behind.
	old := time.Now().Add(-time.Minute)
	for n := 1; n <= 300; n++ {
		e.write(fakeID, jack.StreamStdout, old.Add(time.Duration(n)*time.Millisecond), fmt.Sprint(n))
	}
	s, _ := startCollector(t, e, t.TempDir())
	exactly(t, waitLines(t, s, 300), 300)
	numbered(e, fakeID, 301, 400) // now: followed
	exactly(t, waitLines(t, s, 400), 400)
}

func TestCursorsOfContainersGoneWhileTheDaemonWasDownAreForgotten(t *testing.T) {
	dir := t.TempDir()
	e := newFakeEngine()
	e.add(fakeID, "web.1")
	numbered(e, fakeID, 1, 10)
	s, c := startCollector(t, e, dir)
	exactly(t, waitLines(t, s, 10), 10)
	c.Close()
	s.Close()
	e.remove(fakeID) // while the daemon is down
	s2, _ := startCollector(t, e, dir)
	l := envLogOf(t, s2)
	eventually(t, "the gone container's cursor to be forgotten", func() bool { return len(l.sources()) == 0 })
	exactly(t, storedLines(t, s2), 10)
}
