package logs

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	jack "github.com/jack-paas/jack"
)

// base is the stamp of the first test record: recent, so that the
// store's own retention keeps it.
var base = time.Now().UTC().Truncate(time.Second).Add(-time.Hour)

func openStore(t *testing.T, dir string) *Store {
	t.Helper()
	s, err := OpenStore(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func envLogOf(t *testing.T, s *Store) *envLog {
	t.Helper()
	l, err := s.Env("notes", "production")
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// line returns the record of a numbered line of a container.
func line(source, instance string, n int) record {
	process, _, _ := strings.Cut(instance, ".")
	return record{
		Time: base.Add(time.Duration(n) * time.Millisecond).UnixNano(), Stream: jack.StreamStdout, Release: 3,
		Source: source, Process: process, Instance: instance, Line: fmt.Appendf(nil, "line %d of %s", n, instance),
	}
}

func appendLines(t *testing.T, l *envLog, source, instance string, from, to int) {
	t.Helper()
	var batch []record
	for n := from; n <= to; n++ {
		batch = append(batch, line(source, instance, n))
		if len(batch) == 100 {
			if err := l.append(batch); err != nil {
				t.Fatal(err)
			}
			batch = batch[:0]
		}
	}
	if err := l.append(batch); err != nil {
		t.Fatal(err)
	}
}

// readAll returns the lines q selects.
func readAll(t *testing.T, s *Store, q jack.LogQuery) []string {
	t.Helper()
	if q.App == "" {
		q.App, q.Env = "notes", "production"
	}
	var out []string
	err := s.Read(context.Background(), q, func(r *jack.LogRecord) error {
		if r != nil {
			out = append(out, string(r.Line))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func want(instance string, from, to int) []string {
	var out []string
	for n := from; n <= to; n++ {
		out = append(out, fmt.Sprintf("line %d of %s", n, instance))
	}
	return out
}

func sameLines(t *testing.T, what string, got, want []string) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d lines, want %d (first %q)", what, len(got), len(want), first(got))
	}
	for i := range got {
		if got[i] != want[i] {
			t.Fatalf("%s: line %d is %q, want %q", what, i, got[i], want[i])
		}
	}
}

func first(s []string) string {
	if len(s) == 0 {
		return ""
	}
	return s[0]
}

func TestRecordsReadBackWithEveryField(t *testing.T) {
	s := openStore(t, t.TempDir())
	l := envLogOf(t, s)
	recs := []record{
		{Time: base.UnixNano(), Stream: jack.StreamStderr, Release: 7, Source: "abcdef012345", Process: "web", Instance: "web.2", Line: []byte("bad \xff\xfe bytes")},
		{Time: base.Add(time.Nanosecond).UnixNano(), Stream: jack.StreamStdout, Release: 7, Source: "abcdef012345", Process: "web", Instance: "web.2", Line: nil},
		{Time: base.Add(2).UnixNano(), Stream: jack.StreamEvent, Source: "events", Pos: 9, Process: "jack", Instance: "deploy", Line: []byte("Deployment 3 started")},
	}
	if err := l.append(recs); err != nil {
		t.Fatal(err)
	}
	var got []*jack.LogRecord
	s.Read(context.Background(), jack.LogQuery{App: "notes", Env: "production"}, func(r *jack.LogRecord) error {
		if r != nil {
			got = append(got, r)
		}
		return nil
	})
	if len(got) != 3 {
		t.Fatalf("read %d records, want 3", len(got))
	}
	r := got[0]
	if !r.Time.Equal(base) || r.App != "notes" || r.Env != "production" || r.Process != "web" || r.Instance != "web.2" ||
		r.Container != "abcdef012345" || r.Release != 7 || r.Stream != jack.StreamStderr || string(r.Line) != "bad \xff\xfe bytes" {
		t.Fatalf("first record %+v", r)
	}
	if got[1].Time.Sub(got[0].Time) != time.Nanosecond || len(got[1].Line) != 0 {
		t.Fatalf("second record %+v: want an empty line 1ns later", got[1])
	}
	if got[2].Container != "" || got[2].Source() != "jack.deploy" || got[2].Stream != jack.StreamEvent {
		t.Fatalf("event record %+v", got[2])
	}
}

func TestQueriesSelectByProcessInstanceTimeAndRegexp(t *testing.T) {
	s := openStore(t, t.TempDir())
	l := envLogOf(t, s)
	appendLines(t, l, "aaaaaaaaaaaa", "web.1", 1, 50)
	appendLines(t, l, "bbbbbbbbbbbb", "worker.1", 1, 50)
	sameLines(t, "process", readAll(t, s, jack.LogQuery{Process: "worker"}), want("worker.1", 1, 50))
	sameLines(t, "instance", readAll(t, s, jack.LogQuery{Instance: "web.1"}), want("web.1", 1, 50))
	sameLines(t, "container", readAll(t, s, jack.LogQuery{Instance: "bbbb"}), want("worker.1", 1, 50))
	sameLines(t, "grep", readAll(t, s, jack.LogQuery{Grep: `^line 4\d of web`}), want("web.1", 40, 49))
	sameLines(t, "since/until", readAll(t, s, jack.LogQuery{Process: "web",
		Since: base.Add(10 * time.Millisecond), Until: base.Add(20 * time.Millisecond)}), want("web.1", 10, 19))
	sameLines(t, "last n", readAll(t, s, jack.LogQuery{N: 5}), want("worker.1", 46, 50))
	sameLines(t, "last n of a process", readAll(t, s, jack.LogQuery{N: 3, Process: "web"}), want("web.1", 48, 50))
	sameLines(t, "more than there are", readAll(t, s, jack.LogQuery{N: 1000, Process: "web"}), want("web.1", 1, 50))
}

func TestBadQueriesAreRefused(t *testing.T) {
	s := openStore(t, t.TempDir())
	for _, q := range []jack.LogQuery{
		{App: "notes", Env: "production", Grep: "(unclosed"},
		{App: "notes", Env: "production", Since: base, Until: base.Add(-time.Hour)},
		{App: "notes", Env: "production", Until: base, Follow: true},
		{App: "notes", Env: "production", N: -1},
		{App: "Notes", Env: "production"},
	} {
		err := s.Read(context.Background(), q, func(*jack.LogRecord) error { return nil })
		if jack.ErrorCode(err) != jack.EINVALID {
			t.Errorf("query %+v: %v, want EINVALID", q, err)
		}
	}
}

func TestSealedSegmentsAreCompressedAndReadBack(t *testing.T) {
	dir := t.TempDir()
	s := openStore(t, dir)
	l := envLogOf(t, s)
	l.setSegmentLimit(200 << 10)
	appendLines(t, l, "aaaaaaaaaaaa", "web.1", 1, 30000)
	if err := l.sealPending(); err != nil {
		t.Fatal(err)
	}
	segs, _ := filepath.Glob(filepath.Join(dir, "notes", "production", "*.seg"))
	if len(segs) < 3 {
		t.Fatalf("%d sealed segments, want several", len(segs))
	}
	fi, _ := os.Stat(segs[0])
	if fi.Size() > 100<<10 {
		t.Fatalf("sealed segment of 200 KiB of lines is %d bytes; not compressed", fi.Size())
	}
	sameLines(t, "all", readAll(t, s, jack.LogQuery{}), want("web.1", 1, 30000))
	sameLines(t, "a time range inside", readAll(t, s, jack.LogQuery{Since: base.Add(12345 * time.Millisecond), Until: base.Add(12350 * time.Millisecond)}), want("web.1", 12345, 12349))
	sameLines(t, "last 3", readAll(t, s, jack.LogQuery{N: 3}), want("web.1", 29998, 30000))
	s.Close()

	s2 := openStore(t, dir)
	sameLines(t, "after reopening", readAll(t, s2, jack.LogQuery{}), want("web.1", 1, 30000))
}

func TestATornWriteIsCutOnOpen(t *testing.T) {
	dir := t.TempDir()
	s := openStore(t, dir)
	appendLines(t, envLogOf(t, s), "aaaaaaaaaaaa", "web.1", 1, 10)
	s.Close()
	active := filepath.Join(dir, "notes", "production", fmt.Sprintf("%016d.log", 1))
	whole := appendRecord(nil, &record{Time: 1, Source: "x", Line: []byte("a record the crash cut short")})
	f, _ := os.OpenFile(active, os.O_WRONLY|os.O_APPEND, 0)
	f.Write(whole[:len(whole)-5])
	f.Close()

	s2 := openStore(t, dir)
	l := envLogOf(t, s2)
	appendLines(t, l, "aaaaaaaaaaaa", "web.1", 11, 20)
	sameLines(t, "after the torn write", readAll(t, s2, jack.LogQuery{}), want("web.1", 1, 20))
}

func TestCursorsAreRebuiltAfterACrash(t *testing.T) {
	dir := t.TempDir()
	s := openStore(t, dir)
	l := envLogOf(t, s)
	appendLines(t, l, "aaaaaaaaaaaa", "web.1", 1, 500)
	l.snapshot()
	appendLines(t, l, "aaaaaaaaaaaa", "web.1", 501, 3000)
	l.append([]record{{Time: base.UnixNano(), Source: "router:42", Pos: 1234, Process: "router", Stream: jack.StreamAccess}})
	before, router := l.Cursor("aaaaaaaaaaaa"), l.Cursor("router:42")

	// A second store on the same folder sees what a restart after SIGKILL
	// would: the snapshot of line 500 and the records after it.
	s2, err := OpenStore(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	after := envLogOf(t, s2).Cursor("aaaaaaaaaaaa")
	if fmt.Sprint(after) != fmt.Sprint(before) {
		t.Fatalf("cursor after the crash %+v, want %+v", after, before)
	}
	if got := envLogOf(t, s2).Cursor("router:42"); got.Pos != router.Pos || got.Pos != 1234 {
		t.Fatalf("router cursor %+v, want position 1234", got)
	}
}

func TestRetentionDeletesByAgeThenBySize(t *testing.T) {
	dir := t.TempDir()
	s := openStore(t, dir)
	l := envLogOf(t, s)
	l.setSegmentLimit(64 << 10)
	appendLines(t, l, "aaaaaaaaaaaa", "web.1", 1, 20000)
	l.sealPending()
	now := base.Add(20 * time.Second)

	// Keep 10s: the segments holding only older lines go.
	l.enforce(now, jack.LogSettings{Retention: time.Hour, MaxBytes: 1 << 30})
	if got := readAll(t, s, jack.LogQuery{}); len(got) != 20000 {
		t.Fatalf("an hour's retention kept %d of 20000 lines", len(got))
	}
	deleted := l.enforce(base.Add(time.Hour+10*time.Second), jack.LogSettings{Retention: time.Hour, MaxBytes: 1 << 30})
	got := readAll(t, s, jack.LogQuery{})
	if deleted == 0 || len(got) >= 20000 || len(got) == 0 || int64(len(got))+deleted != 20000 {
		t.Fatalf("after retention by age: %d lines kept, %d deleted; want the oldest gone and the rest kept", len(got), deleted)
	}
	if got[len(got)-1] != "line 20000 of web.1" || got[0] == "line 1 of web.1" {
		t.Fatalf("kept from %q to %q; want the newest kept", got[0], got[len(got)-1])
	}

	// By size: the log shrinks to its limit, the newest kept.
	appendLines(t, l, "aaaaaaaaaaaa", "web.1", 20001, 60000)
	l.sealPending()
	l.enforce(base.Add(61*time.Second), jack.LogSettings{Retention: 7 * 24 * time.Hour, MaxBytes: 1 << 20})
	size, _, _ := l.usage()
	if size > 1<<20 {
		t.Fatalf("log is %d bytes after retention to 1 MiB", size)
	}
	got = readAll(t, s, jack.LogQuery{})
	if len(got) == 0 || got[len(got)-1] != "line 60000 of web.1" {
		t.Fatalf("after retention by size the last line is %q", got[len(got)-1])
	}
}

func TestFollowGetsRecordsAsTheyAreStored(t *testing.T) {
	s := openStore(t, t.TempDir())
	l := envLogOf(t, s)
	appendLines(t, l, "aaaaaaaaaaaa", "web.1", 1, 3)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	got := make(chan string, 100)
	done := make(chan error, 1)
	go func() {
		done <- s.Read(ctx, jack.LogQuery{App: "notes", Env: "production", N: 2, Follow: true, Process: "web"},
			func(r *jack.LogRecord) error {
				if r != nil {
					got <- string(r.Line)
				}
				return nil
			})
	}()
	expect := func(lines ...string) {
		t.Helper()
		for _, w := range lines {
			select {
			case g := <-got:
				if g != w {
					t.Fatalf("followed %q, want %q", g, w)
				}
			case <-time.After(5 * time.Second):
				t.Fatalf("no line %q within 5s", w)
			}
		}
	}
	expect(want("web.1", 2, 3)...)
	for n := 4; n <= 6; n++ {
		appendLines(t, l, "aaaaaaaaaaaa", "web.1", n, n)
		appendLines(t, l, "bbbbbbbbbbbb", "worker.1", n, n) // not selected
		expect(want("web.1", n, n)...)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("follow ended with %v", err)
	}
}

func TestLongAndOddLinesAreStoredAsWritten(t *testing.T) {
	dir := t.TempDir()
	s := openStore(t, dir)
	l := envLogOf(t, s)
	huge := bytes.Repeat([]byte("0123456789abcdef"), 1<<16) // 1 MiB
	lines := [][]byte{huge, {}, []byte("\xff\xfe\x00 not text"), []byte("tab\there\r")}
	for i, ln := range lines {
		l.append([]record{{Time: base.Add(time.Duration(i)).UnixNano(), Stream: jack.StreamStdout, Source: "c", Process: "web", Instance: "web.1", Line: ln}})
	}
	l.sealPending()
	s.Close()
	s2 := openStore(t, dir)
	got := readAll(t, s2, jack.LogQuery{})
	if len(got) != len(lines) {
		t.Fatalf("%d lines, want %d", len(got), len(lines))
	}
	for i := range lines {
		if got[i] != string(lines[i]) {
			t.Errorf("line %d: %d bytes %.20q, want %d bytes %.20q", i, len(got[i]), got[i], len(lines[i]), lines[i])
		}
	}
}

func TestReadsComeInTheOrderOfTheirStamps(t *testing.T) {
	s := openStore(t, t.TempDir())
	l := envLogOf(t, s)
	// Two instances read on their own: their batches interleave out of
	// order in the log.
	appendLines(t, l, "aaaaaaaaaaaa", "web.1", 10, 19)
	appendLines(t, l, "bbbbbbbbbbbb", "web.2", 1, 15)
	appendLines(t, l, "aaaaaaaaaaaa", "web.1", 20, 25)
	got := readRecords(t, s, jack.LogQuery{})
	if len(got) != 31 {
		t.Fatalf("%d records", len(got))
	}
	for i := 1; i < len(got); i++ {
		if got[i].Time.Before(got[i-1].Time) {
			t.Fatalf("record %d (%s %s) is older than the one before (%s %s)", i, got[i].Time, got[i].Line, got[i-1].Time, got[i-1].Line)
		}
	}
	// Records stamped alike keep their order.
	l.append([]record{
		{Time: base.Add(time.Hour).UnixNano(), Source: "c", Process: "web", Instance: "web.1", Line: []byte("first")},
		{Time: base.Add(time.Hour).UnixNano(), Source: "c", Process: "web", Instance: "web.1", Line: []byte("second")},
	})
	if got := readAll(t, s, jack.LogQuery{N: 2}); got[0] != "first" || got[1] != "second" {
		t.Fatalf("equal stamps came as %q", got)
	}
}

func TestAQuietProcessIsFoundAmongAChattyOne(t *testing.T) {
	dir := t.TempDir()
	s := openStore(t, dir)
	l := envLogOf(t, s)
	l.setSegmentLimit(300 << 10)
	appendLines(t, l, "aaaaaaaaaaaa", "web.1", 1, 2)
	appendLines(t, l, "bbbbbbbbbbbb", "worker.1", 1, 40000) // many blocks, several segments
	appendLines(t, l, "aaaaaaaaaaaa", "web.1", 3, 3)
	appendLines(t, l, "bbbbbbbbbbbb", "worker.1", 40001, 50000)
	l.sealPending()
	for _, s := range []*Store{s, openStore(t, dir)} { // and as read from the sealed index
		sameLines(t, "web", readAll(t, s, jack.LogQuery{Process: "web"}), want("web.1", 1, 3))
		sameLines(t, "last web line", readAll(t, s, jack.LogQuery{Process: "web", N: 1}), want("web.1", 3, 3))
		sameLines(t, "by instance", readAll(t, s, jack.LogQuery{Instance: "web.1", N: 2}), want("web.1", 2, 3))
		sameLines(t, "last worker lines", readAll(t, s, jack.LogQuery{Process: "worker", N: 2}), want("worker.1", 49999, 50000))
	}
}
