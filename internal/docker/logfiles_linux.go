package docker

import (
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/docker/docker/api/types/container"
	jack "github.com/jack-paas/jack"
)

// Reading the local driver's files.
//
// The engine's log API costs it three system calls per line (a pread for a
// record's size, one for the record, a flushed write to the client): more
// of its CPU per line than storing the line cost it, so a container writing
// flat out outruns any reader of the API (bench/README.md, bench/logs.sh,
// "Where the time goes"). When Jack runs beside the engine and can read its
// data folder, it reads the files the engine writes instead: the same
// records in the same order (so cursors and every once-only guarantee are
// the same), at the cost of a memcpy and a protobuf decode per line.
//
// A container's files are <root>/containers/<ID>/local-logs/container.log
// (written) and container.log.1, .2, ... (rotated: renamed, so a reader
// holding one open reads on; .N.gz when the container compresses them).
// Docker calls the format internal; Jack checks every record's framing and
// falls back to the API, losing nothing, when a file is not as expected.
const (
	liveLogName = "container.log"
	// rotatedMargin is how far the last stamp of a rotated file may lie
	// before since for the file to be skipped when opening: the engine's
	// stdout and stderr stamp lines a little out of order.
	rotatedMargin = 10 * time.Second
	// openAttempts bounds the tries at opening a consistent set of files
	// while the engine rotates them.
	openAttempts = 10
)

// Waits of a file stream at the end of its container's output.
var (
	// recheckAfterClose are the waits before asking the engine again
	// whether a container stopped, after a writer closed its file: the
	// engine closes the file before it marks the container stopped.
	recheckAfterClose = []time.Duration{10 * time.Millisecond, 50 * time.Millisecond, 200 * time.Millisecond, time.Second}
	// quietCheck is how long a stream waits at the end without news before
	// it looks at the file and the container anyway: a safety net behind
	// the folder watch (and the only way without one).
	quietCheck = 10 * time.Second
	// A stream that read busyRecords or more at once within busyWindow
	// polls the file every busyPoll instead of arming the folder watch: the
	// container writes flat out, and the next poll will find a batch.
	busyWindow  = 20 * time.Millisecond
	busyRecords = 64
	busyPoll    = 5 * time.Millisecond
	// Without a folder watch, the stream reads again every
	// quietCheckPolling, and asks about the container every pollingCheck.
	quietCheckPolling = 100 * time.Millisecond
	pollingCheck      = time.Second
)

// logFile is one open file of a container's log.
type logFile struct {
	f    *os.File
	r    io.Reader // f, or a gzip reader on it
	name string
	ino  uint64
	live bool // the file the engine writes (as it was when opened)
}

func (lf *logFile) close() { lf.f.Close() }

// fileInfo is a log file as listed: its name, rotation (0 for the live
// file), compression and inode.
type fileInfo struct {
	name string
	n    int
	gz   bool
	ino  uint64
}

// listLogFiles returns the files of a log folder, oldest first (the live
// one last). A rotated file present both compressed and not is being
// compressed: the plain one is whole, the other may not be yet.
func listLogFiles(dir string) ([]fileInfo, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var files []fileInfo
	for _, e := range entries {
		name := e.Name()
		rest, ok := strings.CutPrefix(name, liveLogName)
		if !ok {
			continue
		}
		fi := fileInfo{name: name}
		if rest != "" {
			rest, fi.gz = strings.CutSuffix(rest, ".gz")
			num, ok := strings.CutPrefix(rest, ".")
			if !ok {
				continue
			}
			if fi.n, err = strconv.Atoi(num); err != nil || fi.n < 1 {
				continue
			}
		}
		info, err := e.Info()
		if errors.Is(err, fs.ErrNotExist) {
			continue // rotated away meanwhile
		} else if err != nil {
			return nil, err
		}
		fi.ino = info.Sys().(*syscall.Stat_t).Ino
		files = append(files, fi)
	}
	slices.SortFunc(files, func(a, b fileInfo) int {
		if a.n != b.n {
			return b.n - a.n // higher rotation numbers are older
		}
		if a.gz != b.gz {
			if a.gz {
				return -1
			}
			return 1
		}
		return 0
	})
	// Keep the plain file of a rotation being compressed.
	out := files[:0]
	for i, fi := range files {
		if fi.gz && i+1 < len(files) && files[i+1].n == fi.n {
			continue
		}
		out = append(out, fi)
	}
	return out, nil
}

// openLogFile opens a listed file and checks it is the one listed.
func openLogFile(dir string, fi fileInfo) (*logFile, error) {
	f, err := os.Open(filepath.Join(dir, fi.name))
	if err != nil {
		return nil, err
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, err
	}
	lf := &logFile{f: f, r: f, name: fi.name, ino: st.Sys().(*syscall.Stat_t).Ino, live: fi.n == 0}
	if lf.ino != fi.ino {
		f.Close()
		return nil, errRotatedMeanwhile
	}
	if fi.gz {
		zr, err := gzip.NewReader(f)
		if err != nil {
			f.Close()
			return nil, fmt.Errorf("%w: %s: %v", errLogFormat, fi.name, err)
		}
		lf.r = zr
	}
	return lf, nil
}

var errRotatedMeanwhile = errors.New("the engine rotated the log files while they were opened")

// lastStamp returns the stamp of the last record of a rotated file, or
// false when it can't be told without reading it all.
func (lf *logFile) lastStamp() (int64, bool) {
	if zr, ok := lf.r.(*gzip.Reader); ok {
		// The engine notes it in the header of the files it compresses.
		var meta struct {
			LastTime time.Time `json:"lastTime"`
		}
		if json.Unmarshal(zr.Header.Extra, &meta) != nil || meta.LastTime.IsZero() {
			return 0, false
		}
		return meta.LastTime.UnixNano(), true
	}
	st, err := lf.f.Stat()
	if err != nil || st.Size() < recordFrame {
		return 0, false
	}
	var size [4]byte
	if _, err := lf.f.ReadAt(size[:], st.Size()-4); err != nil {
		return 0, false
	}
	n := int64(size[0])<<24 | int64(size[1])<<16 | int64(size[2])<<8 | int64(size[3])
	if n == 0 || n > maxRecordBytes || n+recordFrame > st.Size() {
		return 0, false
	}
	msg := make([]byte, n)
	if _, err := lf.f.ReadAt(msg, st.Size()-4-n); err != nil {
		return 0, false
	}
	var e localEntry
	if decodeLocalEntry(msg, &e) != nil {
		return 0, false
	}
	return e.time, true
}

// fileStream is a jack.LogStream on the local driver's files of one
// container: the files from since on, then the live file as the engine
// writes it, following its rotations, until the container stops.
type fileStream struct {
	ctx   context.Context // of OpenLogs: the stream ends with it
	r     *Runtime
	id    string
	dir   string
	tty   bool
	since int64

	files []*logFile // opened and not read yet, oldest first
	cur   *logFile
	rr    *recordReader
	entry localEntry
	lines lineJoiner

	drained   bool  // the live file was rotated and has been read to its end since
	stopping  bool  // the container stopped: read to the end once more, then EOF
	err       error // what Read returns once the lines before it are delivered
	checks    int   // quick checks of the container's state left after a close
	lastCheck time.Time
	// lastRecords is when the stream last read records, lastCount how many
	// it read then; armed whether the folder watch wakes it at writes.
	lastRecords time.Time
	lastCount   int
	armed       bool

	wake chan struct{} // the folder changed, or the runtime asks for a look
	// closed tells that a writer closed a file of the folder (or that the
	// runtime stops the container): time to ask whether it still runs.
	closedMu sync.Mutex
	closed   bool
	watched  bool // the folder watch wakes the stream

	done      chan struct{}
	closeOnce sync.Once
}

// openLogFiles opens the local driver's files of a container from since on.
func (r *Runtime) openLogFiles(ctx context.Context, id, dir string, tty bool, since time.Time) (*fileStream, error) {
	var sinceNs int64
	if !since.IsZero() {
		sinceNs = since.UnixNano()
	}
	var files []*logFile
	var err error
	for range openAttempts {
		if files, err = openFrom(dir, sinceNs); !errors.Is(err, errRotatedMeanwhile) {
			break
		}
	}
	if err != nil {
		return nil, err
	}
	s := &fileStream{
		ctx: ctx, r: r, id: id, dir: dir, tty: tty, since: sinceNs,
		cur: files[0], files: files[1:],
		wake: make(chan struct{}, 1), done: make(chan struct{}),
	}
	s.rr = newRecordReader(s.cur.r, nil)
	s.watched = r.logFiles.register(s)
	// Asked once the folder is watched, so that a stop is never missed.
	running, err := r.containerRunning(id)
	if err != nil {
		s.Close()
		return nil, err
	}
	s.stopping = !running
	return s, nil
}

// openFrom opens the files that may hold records stamped since or later
// (all when since is 0), and checks that none was rotated meanwhile.
func openFrom(dir string, since int64) ([]*logFile, error) {
	listed, err := listLogFiles(dir)
	if err != nil {
		return nil, err
	}
	if len(listed) == 0 || listed[len(listed)-1].n != 0 {
		return nil, fmt.Errorf("%s: %w", filepath.Join(dir, liveLogName), fs.ErrNotExist)
	}
	var files []*logFile
	closeAll := func() {
		for _, f := range files {
			f.close()
		}
	}
	for _, fi := range listed {
		lf, err := openLogFile(dir, fi)
		if err != nil {
			closeAll()
			if errors.Is(err, fs.ErrNotExist) {
				return nil, errRotatedMeanwhile
			}
			return nil, err
		}
		if !lf.live && since > 0 {
			if last, ok := lf.lastStamp(); ok && last < since-int64(rotatedMargin) {
				// Wholly before since: the ones before it are too.
				closeAll()
				lf.close()
				files = nil
				continue
			}
		}
		files = append(files, lf)
	}
	// The names must still be those of the files opened.
	again, err := listLogFiles(dir)
	if err != nil {
		closeAll()
		return nil, err
	}
	for _, lf := range files {
		i := slices.IndexFunc(again, func(fi fileInfo) bool { return fi.name == lf.name })
		if i < 0 || again[i].ino != lf.ino {
			closeAll()
			return nil, errRotatedMeanwhile
		}
	}
	return files, nil
}

// Read returns the next lines; see jack.LogStream.
func (s *fileStream) Read() ([]jack.LogLine, error) {
	s.lines.reset()
	if s.err != nil {
		return nil, s.err
	}
	for {
		if err := s.readRecords(); err != nil {
			return s.fail(err)
		}
		if len(s.lines.lines) > 0 {
			return s.lines.lines, nil
		}
		// At the end of what the current file holds.
		if !s.cur.live {
			if err := s.nextFile(); err != nil {
				return s.fail(err)
			}
			continue
		}
		if s.stopping {
			// The container stopped and its file is read to the end.
			s.lines.flush()
			s.err = io.EOF
			if len(s.lines.lines) > 0 {
				return s.lines.lines, nil
			}
			return nil, io.EOF
		}
		moved, err := s.liveMoved()
		if err != nil {
			return s.fail(err)
		}
		if moved {
			if !s.drained {
				s.drained = true // read it to its end once more: it is final now
				continue
			}
			s.drained = false
			if err := s.followRotation(); err != nil {
				return s.fail(err)
			}
			continue
		}
		if err := s.await(); err != nil {
			return s.fail(err)
		}
	}
}

// await waits at the end of the live file: a moment while the container
// writes (polling then costs the engine nothing), then for the folder watch
// to tell of a write, once it is armed and the file read once more.
func (s *fileStream) await() error {
	switch {
	case !s.watched:
		return s.wait(quietCheckPolling, pollingCheck)
	case s.lastCount >= busyRecords && time.Since(s.lastRecords) < busyWindow:
		return s.wait(busyPoll, quietCheck)
	case !s.armed:
		if err := s.r.logFiles.arm(s, true); err != nil {
			return err
		}
		s.armed = true
		return nil // read once more: a write before the arming has no event
	}
	err := s.wait(quietCheck, quietCheck)
	s.armed = false
	if derr := s.r.logFiles.arm(s, false); err == nil {
		err = derr
	}
	return err
}

// readRecords adds the records that follow in the current file to the
// lines, up to batchBytes.
func (s *fileStream) readRecords() error {
	n := 0
	defer func() {
		if n > 0 {
			s.lastRecords, s.lastCount = time.Now(), n
		}
	}()
	for s.lines.size() < batchBytes {
		msg, err := s.rr.next()
		if errors.Is(err, io.EOF) {
			return nil
		} else if err != nil {
			return err
		}
		if err := decodeLocalEntry(msg, &s.entry); err != nil {
			return err
		}
		n++
		if s.entry.time < s.since {
			continue
		}
		line := s.entry.line
		if s.tty {
			line = trimCR(line)
		}
		s.lines.add(time.Unix(0, s.entry.time).UTC(), s.entry.stream, line, s.entry.ends())
	}
	return nil
}

// trimCR drops the carriage return a TTY ends lines with.
func trimCR(b []byte) []byte {
	if n := len(b); n > 0 && b[n-1] == '\r' {
		return b[:n-1]
	}
	return b
}

// nextFile moves on to the next file opened, the current one being read.
func (s *fileStream) nextFile() error {
	if len(s.files) == 0 {
		return fmt.Errorf("%w: no live file", errLogFormat)
	}
	s.cur.close()
	s.cur, s.files = s.files[0], s.files[1:]
	s.rr = newRecordReader(s.cur.r, s.rr.buf)
	return nil
}

// liveMoved reports whether the live file is no longer the one read: the
// engine rotated it.
func (s *fileStream) liveMoved() (bool, error) {
	for range openAttempts {
		st, err := os.Stat(filepath.Join(s.dir, liveLogName))
		if errors.Is(err, fs.ErrNotExist) {
			if _, err := os.Stat(s.dir); errors.Is(err, fs.ErrNotExist) {
				// The container was removed: its files are gone.
				s.stopping = true
				return false, nil
			}
			time.Sleep(time.Millisecond) // renamed, not yet created again
			continue
		} else if err != nil {
			return false, err
		}
		return st.Sys().(*syscall.Stat_t).Ino != s.cur.ino, nil
	}
	return false, errors.New("the engine's live log file stays missing")
}

// followRotation moves on from a live file the engine rotated (and that
// has been read to its end) to the file that came after it. When that
// can't be told for sure (the file was compressed, or rotated away
// altogether), the stream ends with jack.ErrLogReopen: the reader opens it
// again at its cursor, which stores no line twice.
func (s *fileStream) followRotation() error {
	for range openAttempts {
		listed, err := listLogFiles(s.dir)
		if err != nil {
			return err
		}
		i := slices.IndexFunc(listed, func(fi fileInfo) bool { return !fi.gz && fi.ino == s.cur.ino })
		if i < 0 || i+1 >= len(listed) {
			return jack.ErrLogReopen
		}
		next, err := openLogFile(s.dir, listed[i+1])
		if errors.Is(err, errRotatedMeanwhile) || errors.Is(err, fs.ErrNotExist) {
			continue
		} else if err != nil {
			return err
		}
		// Still in the same places: no rotation came between.
		again, err := listLogFiles(s.dir)
		if err != nil {
			next.close()
			return err
		}
		j := slices.IndexFunc(again, func(fi fileInfo) bool { return fi.name == listed[i].name })
		if j < 0 || again[j].ino != s.cur.ino || j+1 >= len(again) || again[j+1].ino != next.ino {
			next.close()
			continue
		}
		s.cur.close()
		s.cur = next
		s.rr = newRecordReader(s.cur.r, s.rr.buf)
		return nil
	}
	return jack.ErrLogReopen
}

// wait waits up to d for news of the folder, and asks the engine whether
// the container still runs when a file was closed (the engine closes it as
// the container stops, a moment before it marks it stopped: the stream asks
// a few times in quick succession), or when it has not asked for every.
func (s *fileStream) wait(d, every time.Duration) error {
	if s.checks > 0 {
		d = min(d, recheckAfterClose[len(recheckAfterClose)-s.checks])
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-s.done:
		return os.ErrClosed
	case <-s.ctx.Done():
		return s.ctx.Err()
	case <-s.wake:
		if !s.takeClosed() {
			return nil // new records, most likely
		}
		s.checks = len(recheckAfterClose)
	case <-t.C:
		if s.checks > 0 {
			s.checks--
		} else if time.Since(s.lastCheck) < every {
			return nil
		}
	}
	s.lastCheck = time.Now()
	running, err := s.r.containerRunning(s.id)
	if err != nil {
		return err
	}
	if !running {
		s.stopping = true
	}
	return nil
}

// takeClosed reports whether a file was closed since the last call.
func (s *fileStream) takeClosed() bool {
	s.closedMu.Lock()
	defer s.closedMu.Unlock()
	closed := s.closed
	s.closed = false
	return closed
}

// notify is called by the folder watch; closed when a writer closed a
// file (or the runtime stops the container).
func (s *fileStream) notify(closed bool) {
	if closed {
		s.closedMu.Lock()
		s.closed = true
		s.closedMu.Unlock()
	}
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// fail ends the stream with err, after the lines read before it.
func (s *fileStream) fail(err error) ([]jack.LogLine, error) {
	select {
	case <-s.done:
		err = os.ErrClosed
	default:
	}
	if errors.Is(err, errLogFormat) {
		s.r.logFiles.formatFailed(s.r, s.id, err)
	}
	s.err = err
	if len(s.lines.lines) > 0 {
		return s.lines.lines, nil
	}
	return nil, err
}

// Close ends the stream; a Read waiting returns.
func (s *fileStream) Close() error {
	s.closeOnce.Do(func() {
		close(s.done)
		s.r.logFiles.unregister(s)
		s.cur.close()
		for _, f := range s.files {
			f.close()
		}
	})
	return nil
}

// containerRunning asks the engine whether a container runs; false when it
// is gone.
func (r *Runtime) containerRunning(id string) (bool, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	info, err := r.cli.ContainerInspect(ctx, id)
	if isNotFound(err) {
		return false, nil
	} else if err != nil {
		return false, r.fail(err, "inspect container %.12s", id)
	}
	return info.State != nil && (info.State.Running || info.State.Restarting), nil
}

// openLogsFromFiles opens a container's output on the local driver's files
// when the runtime reads them (see logFiles): used is false when it reads
// this container through the API instead.
func (r *Runtime) openLogsFromFiles(ctx context.Context, info *container.InspectResponse, since time.Time, follow bool) (s jack.LogStream, used bool, err error) {
	dir, err := r.logFolder(ctx, info)
	if err != nil {
		if r.logFiles.mode == logReaderFiles {
			return nil, true, err
		}
		r.logger.Debug("reading a container's output through the engine's API", "container", jack.ShortID(info.ID), "why", err)
		return nil, false, nil
	}
	tty := info.Config != nil && info.Config.Tty
	fs, err := r.openLogFiles(ctx, info.ID, dir, tty, since)
	if err != nil {
		if r.logFiles.mode == logReaderFiles {
			return nil, true, err
		}
		r.logger.Warn("can't read a container's log files; reading its output through the engine's API", "container", jack.ShortID(info.ID), "err", err)
		return nil, false, nil
	}
	fs.stopping = fs.stopping || !follow // read to the end, then EOF
	return fs, true, nil
}

// logFolder returns where the local driver keeps a container's files, or
// why the runtime reads it through the API instead.
func (r *Runtime) logFolder(ctx context.Context, info *container.InspectResponse) (string, error) {
	if r.logFiles.mode == logReaderAPI {
		return "", fmt.Errorf("%s=%s", logReaderEnv, logReaderAPI)
	}
	if info.HostConfig == nil || info.HostConfig.LogConfig.Type != logDriver {
		return "", fmt.Errorf("the container logs to the %q driver", info.HostConfig.LogConfig.Type)
	}
	root, err := r.engineRoot(ctx)
	if err != nil {
		return "", err
	}
	dir := filepath.Join(root, "containers", info.ID, "local-logs")
	f, err := os.Open(filepath.Join(dir, liveLogName))
	if err != nil {
		return "", err // not on this machine after all, or not ours to read
	}
	f.Close()
	return dir, nil
}

// engineRoot returns the engine's data folder when it is on this machine,
// which the engine's socket being a local one says.
func (r *Runtime) engineRoot(ctx context.Context) (string, error) {
	r.logFiles.mu.Lock()
	root, broken := r.logFiles.root, r.logFiles.broken
	r.logFiles.mu.Unlock()
	if broken {
		return "", errors.New("a log file was not in the expected format")
	}
	if root != "" {
		return root, nil
	}
	if !strings.HasPrefix(r.cli.DaemonHost(), "unix://") {
		return "", fmt.Errorf("the engine at %s is not on this machine", r.cli.DaemonHost())
	}
	info, err := r.cli.Info(ctx)
	if err != nil {
		return "", r.fail(err, "ask the engine where it keeps its data")
	}
	if info.DockerRootDir == "" {
		return "", errors.New("the engine does not say where it keeps its data")
	}
	r.logFiles.mu.Lock()
	r.logFiles.root = info.DockerRootDir
	r.logFiles.mu.Unlock()
	return info.DockerRootDir, nil
}
