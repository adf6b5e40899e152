package logs

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"time"
)

// Pos is a position in an environment's log: a segment and an offset in
// its uncompressed records. Positions stay valid when a segment is sealed.
type Pos struct {
	Seq uint64 `json:"seq"`
	Off int64  `json:"off"`
}

// before reports whether p comes before q.
func (p Pos) before(q Pos) bool {
	return p.Seq < q.Seq || p.Seq == q.Seq && p.Off < q.Off
}

// envLog is the log of one environment: its segments, and the cursors of
// the sources it collects from. Appends are serialized; readers read
// alongside.
type envLog struct {
	app, env string
	dir      string
	logger   *slog.Logger
	// sealSoon asks the store to seal the log's full segments.
	sealSoon func(*envLog)

	mu       sync.Mutex
	segments []*segment // oldest first; the last is the active one
	cursors  map[string]*cursor
	notify   chan struct{} // closed and replaced at each append
	encBuf   []byte
	segLimit int64     // the active segment is rotated past this size
	started  time.Time // when the active segment got its first record
	dirty    bool      // cursors changed since the last snapshot
	closed   bool

	// filesMu is held for reading while a segment's file is read, and
	// for writing to close one (sealed or deleted).
	filesMu sync.RWMutex
	snapMu  sync.Mutex // one snapshot write at a time
	sealMu  sync.Mutex // one sealing at a time
}

// Default size of a segment before it is sealed.
const defaultSegmentBytes = 64 << 20

// snapshotFile holds the cursors as of a position; opening the log replays
// the records after it.
const snapshotFile = "cursors.json"

type snapshot struct {
	Pos     Pos                `json:"pos"`
	Cursors map[string]*cursor `json:"cursors"`
}

// openEnvLog opens (creating if needed) the log in dir: it loads the
// sealed segments' indexes, recovers the unsealed ones (cutting a torn
// end), and rebuilds the cursors from the last snapshot and the records
// after it.
func openEnvLog(dir, app, env string, logger *slog.Logger, sealSoon func(*envLog)) (*envLog, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("create log folder: %w", err)
	}
	l := &envLog{
		app: app, env: env, dir: dir, logger: logger, sealSoon: sealSoon,
		cursors: map[string]*cursor{}, notify: make(chan struct{}), segLimit: defaultSegmentBytes,
	}
	if err := l.loadSegments(); err != nil {
		l.close()
		return nil, err
	}
	if err := l.recoverCursors(); err != nil {
		l.close()
		return nil, err
	}
	return l, nil
}

// loadSegments opens the segment files of the folder.
func (l *envLog) loadSegments() error {
	entries, err := os.ReadDir(l.dir)
	if err != nil {
		return fmt.Errorf("read log folder: %w", err)
	}
	sealed := map[uint64]bool{}
	var seqs []uint64
	for _, e := range entries {
		name := e.Name()
		if filepath.Ext(name) == ".tmp" {
			os.Remove(filepath.Join(l.dir, name)) // a seal or snapshot a crash interrupted
			continue
		}
		seq, isSealed, ok := parseSegmentName(name)
		if !ok {
			continue
		}
		if _, seen := sealed[seq]; !seen {
			seqs = append(seqs, seq)
		}
		sealed[seq] = sealed[seq] || isSealed
	}
	sort.Slice(seqs, func(i, j int) bool { return seqs[i] < seqs[j] })
	for _, seq := range seqs {
		var s *segment
		var err error
		if sealed[seq] {
			// A crash after sealing may have left the unsealed file too.
			os.Remove(segmentPath(l.dir, seq, false))
			s, err = openSealed(segmentPath(l.dir, seq, true), seq)
		} else {
			s, err = openActive(segmentPath(l.dir, seq, false), seq)
		}
		if err != nil {
			return err
		}
		l.segments = append(l.segments, s)
	}
	last := len(l.segments) - 1
	if last < 0 || l.segments[last].sealed {
		var next uint64 = 1
		if last >= 0 {
			next = l.segments[last].seq + 1
		}
		s, err := openActive(segmentPath(l.dir, next, false), next)
		if err != nil {
			return err
		}
		l.segments = append(l.segments, s)
	} else if l.segments[last].raw > 0 {
		l.started = time.Now()
	}
	return nil
}

// recoverCursors loads the snapshot and counts the records after it.
func (l *envLog) recoverCursors() error {
	snap := snapshot{Pos: Pos{Seq: l.segments[0].seq}}
	buf, err := os.ReadFile(filepath.Join(l.dir, snapshotFile))
	switch {
	case errors.Is(err, fs.ErrNotExist):
	case err != nil:
		return fmt.Errorf("read cursors: %w", err)
	default:
		if err := json.Unmarshal(buf, &snap); err != nil {
			l.logger.Warn("log cursors unreadable; counting every record again", "dir", l.dir, "err", err)
			snap = snapshot{Pos: Pos{Seq: l.segments[0].seq}}
		}
	}
	if snap.Cursors != nil {
		l.cursors = snap.Cursors
	}
	it := l.iterator(snap.Pos, Pos{}, nil)
	defer it.release()
	for {
		r, _, ok, err := it.next()
		if err != nil {
			return fmt.Errorf("replay log after its cursors: %w", err)
		}
		if !ok {
			return nil
		}
		l.cursor(string(r.Source)).add(r.Time, r.Pos)
	}
}

// cursor returns the cursor of a source, made on first use. The caller
// holds l.mu (or owns l, while opening).
func (l *envLog) cursor(source string) *cursor {
	c := l.cursors[source]
	if c == nil {
		c = &cursor{}
		l.cursors[source] = c
	}
	return c
}

// Cursor returns a copy of a source's cursor (empty if it has none).
func (l *envLog) Cursor(source string) *cursor {
	l.mu.Lock()
	defer l.mu.Unlock()
	if c := l.cursors[source]; c != nil {
		return c.clone()
	}
	return &cursor{}
}

// forget drops the cursor of a source that will send nothing more.
func (l *envLog) forget(source string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if _, ok := l.cursors[source]; ok {
		delete(l.cursors, source)
		l.dirty = true
	}
}

// sources returns the names of the sources with a cursor.
func (l *envLog) sources() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := make([]string, 0, len(l.cursors))
	for s := range l.cursors {
		out = append(out, s)
	}
	return out
}

// active returns the active segment. The caller holds l.mu.
func (l *envLog) active() *segment { return l.segments[len(l.segments)-1] }

// errClosed is returned by the methods of a closed log.
var errClosed = errors.New("log closed")

// append stores records at the end of the log with one write, then counts
// them in their sources' cursors and wakes the readers that follow.
func (l *envLog) append(recs []record) error {
	if len(recs) == 0 {
		return nil
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return errClosed
	}
	seg := l.active()
	buf := l.encBuf[:0]
	ends := make([]int, len(recs))
	for i := range recs {
		buf = appendRecord(buf, &recs[i])
		ends[i] = len(buf)
	}
	if _, err := seg.file.WriteAt(buf, seg.raw); err != nil {
		// Leave no half record behind for the next append to follow.
		seg.file.Truncate(seg.raw)
		return fmt.Errorf("write log of %s/%s: %w", l.app, l.env, err)
	}
	if seg.raw == 0 {
		l.started = time.Now()
	}
	start, source, c := 0, "", (*cursor)(nil)
	for i := range recs {
		r := &recs[i]
		seg.note(seg.raw+int64(start), ends[i]-start, r.Time, []byte(r.Process))
		start = ends[i]
		if c == nil || r.Source != source {
			source, c = r.Source, l.cursor(r.Source)
		}
		c.add(r.Time, r.Pos)
	}
	seg.raw += int64(len(buf))
	seg.size = seg.raw
	l.dirty = true
	if cap(buf) <= 4<<20 {
		l.encBuf = buf
	}
	close(l.notify)
	l.notify = make(chan struct{})
	if seg.raw >= l.segLimit {
		l.rotateLocked()
	}
	return nil
}

// rotateLocked starts a new active segment and asks for the old one to be
// sealed. The caller holds l.mu.
func (l *envLog) rotateLocked() {
	old := l.active()
	if old.raw == 0 {
		return
	}
	next, err := openActive(segmentPath(l.dir, old.seq+1, false), old.seq+1)
	if err != nil {
		l.logger.Error("start a new log segment; appending to the full one", "dir", l.dir, "err", err)
		return
	}
	l.segments = append(l.segments, next)
	l.started = time.Time{}
	if l.sealSoon != nil {
		l.sealSoon(l)
	}
}

// rotateIfOlder rotates the active segment when its first record is older
// than age, so that retention by age can delete it.
func (l *envLog) rotateIfOlder(now time.Time, age time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.closed && !l.started.IsZero() && now.Sub(l.started) >= age {
		l.rotateLocked()
	}
}

// setSegmentLimit sets the size past which the active segment is sealed.
func (l *envLog) setSegmentLimit(n int64) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.segLimit = n
}

// end returns the position after the last record, and a channel closed at
// the next append.
func (l *envLog) end() (Pos, <-chan struct{}) {
	l.mu.Lock()
	defer l.mu.Unlock()
	a := l.active()
	return Pos{Seq: a.seq, Off: a.raw}, l.notify
}

// start returns the position of the oldest record kept.
func (l *envLog) start() Pos {
	l.mu.Lock()
	defer l.mu.Unlock()
	return Pos{Seq: l.segments[0].seq}
}

// sealPending seals the segments that are full, one at a time, oldest first.
func (l *envLog) sealPending() error {
	l.sealMu.Lock()
	defer l.sealMu.Unlock()
	for {
		l.mu.Lock()
		var todo *segment
		for _, s := range l.segments[:len(l.segments)-1] {
			if !s.sealed {
				todo = s
				break
			}
		}
		closed := l.closed
		l.mu.Unlock()
		if todo == nil || closed {
			return nil
		}
		sealed, err := seal(l.dir, todo)
		if err != nil {
			return err
		}
		l.mu.Lock()
		replaced := false
		for i, s := range l.segments {
			if s == todo {
				l.segments[i] = sealed
				replaced = true
			}
		}
		l.mu.Unlock()
		if !replaced {
			// Deleted by retention meanwhile.
			sealed.file.Close()
			os.Remove(segmentPath(l.dir, todo.seq, true))
			continue
		}
		l.filesMu.Lock()
		todo.file.Close()
		l.filesMu.Unlock()
		os.Remove(segmentPath(l.dir, todo.seq, false))
	}
}

// usage returns the log's size on disk, its number of segments and the
// stamp of its oldest record.
func (l *envLog) usage() (bytes int64, segments int, oldest int64) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, s := range l.segments {
		bytes += s.size
		if lo, _ := s.timeRange(); len(s.blocks) > 0 && (oldest == 0 || lo < oldest) {
			oldest = lo
		}
	}
	return bytes, len(l.segments), oldest
}

// snapshot writes the cursors and the position they hold for, after making
// the records up to there durable, when they changed since the last one.
func (l *envLog) snapshot() error {
	l.snapMu.Lock()
	defer l.snapMu.Unlock()
	l.filesMu.RLock()
	l.mu.Lock()
	if !l.dirty || l.closed {
		l.mu.Unlock()
		l.filesMu.RUnlock()
		return nil
	}
	a := l.active()
	snap := snapshot{Pos: Pos{Seq: a.seq, Off: a.raw}, Cursors: make(map[string]*cursor, len(l.cursors))}
	for k, c := range l.cursors {
		snap.Cursors[k] = c.clone()
	}
	l.dirty = false
	file := a.file
	l.mu.Unlock()
	err := file.Sync()
	l.filesMu.RUnlock()
	if err != nil {
		l.markDirty()
		return fmt.Errorf("sync log: %w", err)
	}
	buf, err := json.Marshal(snap)
	if err != nil {
		return err
	}
	if err := writeFileAtomic(filepath.Join(l.dir, snapshotFile), buf); err != nil {
		l.markDirty()
		return fmt.Errorf("write log cursors: %w", err)
	}
	return nil
}

func (l *envLog) markDirty() {
	l.mu.Lock()
	l.dirty = true
	l.mu.Unlock()
}

// close writes a last snapshot and closes the files.
func (l *envLog) close() error {
	var err error
	if len(l.segments) > 0 {
		err = l.snapshot()
	}
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return nil
	}
	l.closed = true
	segs := l.segments
	close(l.notify)
	l.notify = make(chan struct{})
	l.mu.Unlock()
	l.filesMu.Lock()
	defer l.filesMu.Unlock()
	for _, s := range segs {
		s.file.Close()
	}
	return err
}

// writeFileAtomic replaces path with data: written to a temporary file,
// synced, renamed over it.
func writeFileAtomic(path string, data []byte) error {
	tmp := path + ".tmp"
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		return err
	}
	syncDir(filepath.Dir(path))
	return nil
}
