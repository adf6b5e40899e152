package docker

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	jack "github.com/jack-paas/jack"
	"github.com/jack-paas/jack/internal/dockertest"
	"google.golang.org/protobuf/encoding/protowire"
)

// These tests read folders written the way the engine's local driver
// writes its files, so that every case (rotations, compression, a record
// half written, a damaged file) can be made at will. The stream asks the
// engine whether its container runs: a running test container stands for
// a running one, an unknown ID for one that is gone.

// rec is a record to write: stream, stamp, line; chunk marks a chunk of
// a longer line (last: its last one).
type rec struct {
	stream      string
	at          int64
	line        string
	chunk, last bool
}

// encodeEntry returns the record of e as the local driver writes it.
func encodeEntry(e rec) []byte {
	var msg []byte
	msg = protowire.AppendTag(msg, 1, protowire.BytesType)
	msg = protowire.AppendString(msg, e.stream)
	msg = protowire.AppendTag(msg, 2, protowire.VarintType)
	msg = protowire.AppendVarint(msg, uint64(e.at))
	msg = protowire.AppendTag(msg, 3, protowire.BytesType)
	msg = protowire.AppendString(msg, e.line)
	if e.chunk {
		msg = protowire.AppendTag(msg, 4, protowire.VarintType)
		msg = protowire.AppendVarint(msg, 1)
		var meta []byte
		if e.last {
			meta = protowire.AppendTag(meta, 1, protowire.VarintType)
			meta = protowire.AppendVarint(meta, 1)
		}
		meta = protowire.AppendTag(meta, 2, protowire.BytesType)
		meta = protowire.AppendString(meta, "chunked")
		msg = protowire.AppendTag(msg, 5, protowire.BytesType)
		msg = protowire.AppendBytes(msg, meta)
	}
	rec := binary.BigEndian.AppendUint32(nil, uint32(len(msg)))
	rec = append(rec, msg...)
	return binary.BigEndian.AppendUint32(rec, uint32(len(msg)))
}

// numbered returns entries of stdout lines from..to, stamped a
// microsecond apart from base.
func numbered(base time.Time, from, to int) []rec {
	var out []rec
	for i := from; i <= to; i++ {
		out = append(out, rec{stream: "stdout", at: base.Add(time.Duration(i) * time.Microsecond).UnixNano(), line: strconv.Itoa(i)})
	}
	return out
}

// appendEntries writes entries at the end of a file, one write each.
func appendEntries(t *testing.T, path string, entries ...rec) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o640)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for _, e := range entries {
		if _, err := f.Write(encodeEntry(e)); err != nil {
			t.Fatal(err)
		}
	}
}

// rotate renames the files as the engine does when the live one is full:
// container.log.N becomes .N+1, the live file becomes .1 (compressed into
// .1.gz when compress is set), and a new live file is started.
func rotate(t *testing.T, dir string, compress bool) {
	t.Helper()
	live := filepath.Join(dir, liveLogName)
	for n := 8; n >= 1; n-- {
		for _, ext := range []string{"", ".gz"} {
			from := fmt.Sprintf("%s.%d%s", live, n, ext)
			if _, err := os.Stat(from); err == nil {
				os.Rename(from, fmt.Sprintf("%s.%d%s", live, n+1, ext))
			}
		}
	}
	if err := os.Rename(live, live+".1"); err != nil {
		t.Fatal(err)
	}
	if compress {
		gzipFile(t, live+".1")
	}
	if err := os.WriteFile(live, nil, 0o640); err != nil {
		t.Fatal(err)
	}
}

// gzipFile compresses a rotated file as the engine does: its last stamp in
// the header, the plain file removed.
func gzipFile(t *testing.T, path string) {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var last int64
	for rr := newRecordReader(bytes.NewReader(raw), nil); ; {
		msg, err := rr.next()
		if err != nil {
			break
		}
		var e localEntry
		decodeLocalEntry(msg, &e)
		last = e.time
	}
	var out bytes.Buffer
	zw := gzip.NewWriter(&out)
	zw.Header.Extra, _ = json.Marshal(map[string]time.Time{"lastTime": time.Unix(0, last).UTC()})
	zw.Write(raw)
	zw.Close()
	if err := os.WriteFile(path+".gz", out.Bytes(), 0o640); err != nil {
		t.Fatal(err)
	}
	os.Remove(path)
}

// logFolder returns an empty folder with a live file.
func logFolder(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, liveLogName), nil, 0o640); err != nil {
		t.Fatal(err)
	}
	return dir
}

// runningID returns the ID of a running container of the test.
func runningID(t *testing.T, r *Runtime) string {
	t.Helper()
	cli := dockertest.Client(t)
	return start(t, r, webSpec(testImage(t, cli), 1)).ID
}

// goneID is the ID of no container.
const goneID = "0000000000000000000000000000000000000000000000000000000000000000"

// readNumbers reads a stream until it ends or n lines came, and returns
// the lines and how it ended (nil when n lines came).
func readNumbers(t *testing.T, s jack.LogStream, n int) ([]string, error) {
	t.Helper()
	var out []string
	done := make(chan struct{})
	defer close(done)
	go func() {
		select {
		case <-done:
		case <-time.After(20 * time.Second):
			s.Close()
		}
	}()
	for len(out) < n {
		lines, err := s.Read()
		for _, l := range lines {
			out = append(out, string(l.Line))
		}
		if err != nil {
			return out, err
		}
	}
	return out, nil
}

// wantNumbers fails unless lines are from..to in order.
func wantNumbers(t *testing.T, lines []string, from, to int) {
	t.Helper()
	if len(lines) != to-from+1 {
		t.Fatalf("%d lines (%.30q...), want %d..%d", len(lines), lines, from, to)
	}
	for i, l := range lines {
		if l != strconv.Itoa(from+i) {
			t.Fatalf("line %d is %q, want %d", i, l, from+i)
		}
	}
}

var base = time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC)

func TestTheFilesAreReadOldestFirstFromSinceOn(t *testing.T) {
	r, _ := newRuntime(t)
	for _, compress := range []bool{false, true} {
		t.Run(fmt.Sprintf("compress=%v", compress), func(t *testing.T) {
			dir := logFolder(t)
			live := filepath.Join(dir, liveLogName)
			appendEntries(t, live, numbered(base, 1, 100)...)
			rotate(t, dir, compress)
			// The next file starts a minute later, so that the first can
			// be skipped whole.
			appendEntries(t, live, numbered(base.Add(time.Minute), 101, 200)...)
			rotate(t, dir, compress)
			appendEntries(t, live, numbered(base.Add(2*time.Minute), 201, 250)...)

			s, err := r.openLogFiles(context.Background(), goneID, dir, false, time.Time{})
			if err != nil {
				t.Fatal(err)
			}
			lines, err := readNumbers(t, s, 1000)
			s.Close()
			if !errors.Is(err, io.EOF) {
				t.Fatalf("the stream of a gone container ended with %v, want EOF", err)
			}
			wantNumbers(t, lines, 1, 250)

			from := base.Add(time.Minute + 150*time.Microsecond)
			s, err = r.openLogFiles(context.Background(), goneID, dir, false, from)
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			if len(s.files) != 1 {
				t.Errorf("%d files opened after the first, want 1: the oldest is wholly before since", len(s.files))
			}
			lines, _ = readNumbers(t, s, 1000)
			wantNumbers(t, lines, 150, 250)
		})
	}
}

func TestAFileStreamFollowsTheLiveFileThroughRotations(t *testing.T) {
	r, _ := newRuntime(t)
	id := runningID(t, r)
	dir := logFolder(t)
	live := filepath.Join(dir, liveLogName)
	s, err := r.openLogFiles(context.Background(), id, dir, false, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if !s.watched {
		t.Fatal("the folder is not watched")
	}
	got := make(chan []string, 1)
	go func() {
		lines, err := readNumbers(t, s, 5000)
		if err != nil {
			t.Errorf("reading: %v", err)
		}
		got <- lines
	}()
	// Written in bursts, rotated twice, the reader behind or not.
	for i := range 5 {
		appendEntries(t, live, numbered(base, i*1000+1, i*1000+700)...)
		if i == 1 || i == 3 {
			time.Sleep(20 * time.Millisecond)
			appendEntries(t, live, numbered(base, i*1000+701, i*1000+1000)...)
			rotate(t, dir, false)
			continue
		}
		appendEntries(t, live, numbered(base, i*1000+701, i*1000+1000)...)
	}
	select {
	case lines := <-got:
		wantNumbers(t, lines, 1, 5000)
	case <-time.After(30 * time.Second):
		t.Fatal("the stream did not return every line")
	}
}

func TestAFileCompressedUnderTheReaderMakesItReopenAtItsCursor(t *testing.T) {
	r, _ := newRuntime(t)
	id := runningID(t, r)
	dir := logFolder(t)
	live := filepath.Join(dir, liveLogName)
	appendEntries(t, live, numbered(base, 1, 10)...)
	s, err := r.openLogFiles(context.Background(), id, dir, false, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	lines, _ := readNumbers(t, s, 10)
	wantNumbers(t, lines, 1, 10)
	appendEntries(t, live, numbered(base, 11, 12)...)
	rotate(t, dir, true) // the file read is now .1.gz: its inode is gone
	appendEntries(t, live, numbered(base, 13, 14)...)
	lines, err = readNumbers(t, s, 100)
	if !errors.Is(err, jack.ErrLogReopen) {
		t.Fatalf("after the compression, the stream ended with %v, want ErrLogReopen", err)
	}
	wantNumbers(t, lines, 11, 12) // what the old file held, then the end
}

func TestARecordHalfWrittenIsReadOnceWhole(t *testing.T) {
	r, _ := newRuntime(t)
	id := runningID(t, r)
	dir := logFolder(t)
	live := filepath.Join(dir, liveLogName)
	rec := encodeEntry(rec{stream: "stderr", at: base.UnixNano(), line: "written in two goes"})
	f, err := os.OpenFile(live, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	f.Write(rec[:7])
	s, err := r.openLogFiles(context.Background(), id, dir, false, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	got := make(chan []jack.LogLine, 1)
	go func() {
		lines, err := s.Read()
		if err != nil {
			t.Errorf("Read: %v", err)
		}
		got <- lines
	}()
	time.Sleep(50 * time.Millisecond)
	select {
	case lines := <-got:
		t.Fatalf("read %d lines of a half record", len(lines))
	default:
	}
	f.Write(rec[7:])
	select {
	case lines := <-got:
		if len(lines) != 1 || string(lines[0].Line) != "written in two goes" || lines[0].Stream != jack.StreamStderr || !lines[0].Time.Equal(base) {
			t.Fatalf("read %+v", lines)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the whole record was never read")
	}
}

func TestChunksAreJoinedAndTTYLinesLoseTheirCarriageReturn(t *testing.T) {
	r, _ := newRuntime(t)
	dir := logFolder(t)
	at := base.UnixNano()
	appendEntries(t, filepath.Join(dir, liveLogName),
		rec{stream: "stdout", at: at, line: "first ", chunk: true},
		rec{stream: "stdout", at: at, line: "second ", chunk: true},
		rec{stream: "stdout", at: at, line: "last\r", chunk: true, last: true},
		rec{stream: "stdout", at: at + 1, line: "whole\r"},
	)
	for _, tty := range []bool{false, true} {
		s, err := r.openLogFiles(context.Background(), goneID, dir, tty, time.Time{})
		if err != nil {
			t.Fatal(err)
		}
		lines, _ := readNumbers(t, s, 10)
		s.Close()
		want := []string{"first second last\r", "whole\r"}
		if tty {
			want = []string{"first second last", "whole"}
		}
		if strings.Join(lines, "|") != strings.Join(want, "|") {
			t.Errorf("tty %v: lines %q, want %q", tty, lines, want)
		}
	}
}

func TestAFileNotInTheFormatTurnsTheFileReaderOff(t *testing.T) {
	r, _ := newRuntime(t)
	if r.logFiles.mode != logReaderAuto {
		t.Skipf("%s=%s", logReaderEnv, r.logFiles.mode)
	}
	dir := logFolder(t)
	live := filepath.Join(dir, liveLogName)
	appendEntries(t, live, numbered(base, 1, 3)...)
	damaged := encodeEntry(rec{stream: "stdout", at: base.UnixNano(), line: "x"})
	binary.BigEndian.PutUint32(damaged[len(damaged)-4:], 99) // the sizes disagree
	f, _ := os.OpenFile(live, os.O_WRONLY|os.O_APPEND, 0)
	f.Write(damaged)
	f.Close()
	s, err := r.openLogFiles(context.Background(), goneID, dir, false, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	lines, err := readNumbers(t, s, 10)
	wantNumbers(t, lines, 1, 3)
	if !errors.Is(err, errLogFormat) {
		t.Fatalf("the damaged record ended the stream with %v, want errLogFormat", err)
	}
	// From now on the runtime reads through the engine's API.
	cli := dockertest.Client(t)
	c := start(t, r, webSpec(testImage(t, cli), 1))
	info, err := cli.ContainerInspect(context.Background(), c.ID)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.logFolder(context.Background(), &info); err == nil {
		t.Fatal("the runtime still reads the files")
	}
	api, err := r.OpenLogs(context.Background(), c.ID, time.Time{}, true)
	if err != nil {
		t.Fatal(err)
	}
	defer api.Close()
	if _, ok := api.(*frameStream); !ok {
		t.Fatalf("OpenLogs returned a %T, want the API's stream", api)
	}
}
