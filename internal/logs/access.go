package logs

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"

	jack "github.com/jack-paas/jack"
)

// AccessLog copies the router's access log into the logs of the
// environments: the router appends one JSON object per request to a file,
// and renames it to FILE.1 when it is large. The copier's cursor is the
// file (by inode) and a byte offset, kept in a file of its own once the
// lines before it are stored; each environment's log keeps, as the cursor
// of "router:INODE", the offset after the last line it holds, so that the
// lines read again after a crash are stored once.
type AccessLog struct {
	path       string
	cursorPath string
	logs       *Store
	logger     *slog.Logger
	// Instance names the instance of a container ID, when known.
	Instance func(id string) (*jack.LogContainer, bool)
	// Interval is how often the file is looked at; default 100ms.
	Interval time.Duration

	cur       accessCursor
	saved     accessCursor
	lastSave  time.Time
	badLines  int
	prevInode uint64 // the file left behind, whose cursors go once saved
}

// accessCursor is where the copier is in the router's access log.
type accessCursor struct {
	Inode  uint64 `json:"inode"`
	Offset int64  `json:"offset"`
}

// accessEntry is one line of the router's access log.
type accessEntry struct {
	Time       time.Time `json:"time"`
	Env        string    `json:"env"` // APP/ENV
	Host       string    `json:"host"`
	Method     string    `json:"method"`
	Path       string    `json:"path"`
	Status     int       `json:"status"`
	Bytes      int64     `json:"bytes"`
	DurationMS float64   `json:"duration_ms"`
	Instance   string    `json:"instance"` // the upstream container's ID
	RequestID  string    `json:"request_id"`
	Client     string    `json:"client"`
}

// maxAccessLine bounds a line of the access log; longer ones are skipped.
const maxAccessLine = 64 << 10

// NewAccessLog returns a copier of the access log at path into logs,
// keeping its cursor in cursorPath; Run runs it.
func NewAccessLog(path, cursorPath string, logs *Store, logger *slog.Logger) *AccessLog {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &AccessLog{path: path, cursorPath: cursorPath, logs: logs, logger: logger, Interval: 100 * time.Millisecond}
}

// Run copies new lines every Interval until ctx ends.
func (a *AccessLog) Run(ctx context.Context) {
	if buf, err := os.ReadFile(a.cursorPath); err == nil {
		json.Unmarshal(buf, &a.cur)
		a.saved = a.cur
	}
	tick := time.NewTicker(a.Interval)
	defer tick.Stop()
	for {
		if err := a.Poll(); err != nil {
			a.logger.Warn("copy the router's access log", "err", err)
		}
		select {
		case <-ctx.Done():
			a.save(true)
			return
		case <-tick.C:
		}
	}
}

// Poll copies the lines written since the last poll.
func (a *AccessLog) Poll() error {
	current, curErr := inodeOf(a.path)
	if curErr != nil && !errors.Is(curErr, fs.ErrNotExist) {
		return curErr
	}
	rotated, rotErr := inodeOf(a.path + ".1")
	switch {
	case a.cur.Inode != 0 && a.cur.Inode == current:
		if err := a.copyFrom(a.path); err != nil {
			return err
		}
	case a.cur.Inode != 0 && a.cur.Inode == rotated:
		// Renamed away: finish it, then go on with the new file.
		if err := a.copyFrom(a.path + ".1"); err != nil {
			return err
		}
		if curErr == nil {
			a.switchTo(current)
			return a.copyFrom(a.path)
		}
	default:
		if a.cur.Inode != 0 {
			a.logger.Warn("the router's access log was rotated twice while Jack did not read it; lines of the file in between are lost")
		} else if rotErr == nil {
			// First start with a rotated file there: take it first.
			a.switchTo(rotated)
			if err := a.copyFrom(a.path + ".1"); err != nil {
				return err
			}
		}
		if curErr == nil {
			a.switchTo(current)
			return a.copyFrom(a.path)
		}
	}
	a.save(false)
	return nil
}

// switchTo starts reading the file with the inode from its beginning.
func (a *AccessLog) switchTo(inode uint64) {
	if a.cur.Inode != 0 && a.cur.Inode != inode {
		a.prevInode = a.cur.Inode
	}
	a.cur = accessCursor{Inode: inode}
}

// copyFrom copies the whole lines of the file from the cursor on, and
// saves the cursor.
func (a *AccessLog) copyFrom(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return err
	}
	if inode := fi.Sys().(*syscall.Stat_t).Ino; inode != a.cur.Inode {
		return nil // replaced since we looked; the next poll sorts it out
	}
	if fi.Size() < a.cur.Offset {
		a.logger.Warn("the router's access log was truncated; reading it from its start")
		a.cur.Offset = 0
	}
	if _, err := f.Seek(a.cur.Offset, io.SeekStart); err != nil {
		return err
	}
	br := bufio.NewReaderSize(f, maxAccessLine)
	source := "router:" + strconv.FormatUint(a.cur.Inode, 10)
	batches := map[string][]record{}
	offset := a.cur.Offset
	flush := func() error {
		for ref, recs := range batches {
			app, env, _ := strings.Cut(ref, "/")
			l, err := a.logs.Env(app, env)
			if err != nil {
				continue // checked when batched
			}
			stored := l.Cursor(source).Pos
			keep := recs[:0]
			for _, r := range recs {
				if r.Pos > stored { // lines read again after a crash are there already
					keep = append(keep, r)
				}
			}
			if err := l.append(keep); err != nil {
				return err
			}
			delete(batches, ref)
		}
		a.cur.Offset = offset
		return nil
	}
	count := 0
	for {
		line, n, err := readLine(br)
		if err == io.EOF {
			break // a line without its newline yet: wait for the rest
		} else if err != nil {
			return err
		}
		offset += int64(n)
		if ref, rec, ok := a.parse(line, source, offset); ok {
			batches[ref] = append(batches[ref], rec)
			count++
		}
		if count >= 1000 {
			if err := flush(); err != nil {
				return err
			}
			count = 0
		}
	}
	if err := flush(); err != nil {
		return err
	}
	a.save(false)
	return nil
}

// readLine returns the next whole line with its newline, and its length.
// A line longer than the reader's buffer comes back nil, to be skipped.
// io.EOF means the rest has no newline yet.
func readLine(br *bufio.Reader) ([]byte, int, error) {
	n := 0
	for {
		chunk, err := br.ReadSlice('\n')
		n += len(chunk)
		switch {
		case err == nil && n == len(chunk):
			return chunk, n, nil
		case err == nil:
			return nil, n, nil
		case !errors.Is(err, bufio.ErrBufferFull):
			return nil, 0, err
		}
	}
}

// parse reads one line of the access log into a record of its
// environment's log, ending at offset.
func (a *AccessLog) parse(line []byte, source string, offset int64) (string, record, bool) {
	var e accessEntry
	line = bytes.TrimSpace(line)
	if len(line) == 0 || json.Unmarshal(line, &e) != nil {
		a.badLines++
		if a.badLines == 1 || a.badLines%1000 == 0 {
			a.logger.Warn("skipped lines of the router's access log that are not its JSON", "count", a.badLines)
		}
		return "", record{}, false
	}
	app, env, ok := strings.Cut(e.Env, "/")
	if !ok || jack.ValidateName("app", app) != nil || jack.ValidateName("environment", env) != nil {
		return "", record{}, false // a request no environment answered
	}
	instance, release := "-", 0
	if e.Instance != "" {
		instance = jack.ShortID(e.Instance)
		if a.Instance != nil {
			if c, ok := a.Instance(e.Instance); ok {
				instance, release = c.Instance, c.Release
			}
		}
	}
	text := fmt.Sprintf("%s %s %d %dB %.1fms host=%s client=%s request_id=%s instance=%s",
		e.Method, e.Path, e.Status, e.Bytes, e.DurationMS, dashIfEmpty(e.Host), dashIfEmpty(e.Client), dashIfEmpty(e.RequestID), instance)
	return e.Env, record{
		Time: e.Time.UnixNano(), Stream: jack.StreamAccess, Release: release, Source: source, Pos: offset,
		Process: jack.ProcessRouter, Line: []byte(text),
	}, true
}

func dashIfEmpty(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// save writes the cursor when it moved, at most once a second unless now.
// Once the cursor is past the previous file, the logs' cursors of that file
// go.
func (a *AccessLog) save(now bool) {
	if a.cur == a.saved || (!now && time.Since(a.lastSave) < time.Second) {
		return
	}
	buf, _ := json.Marshal(a.cur)
	if err := writeFileAtomic(a.cursorPath, buf); err != nil {
		a.logger.Warn("save the cursor of the router's access log", "err", err)
		return
	}
	a.saved, a.lastSave = a.cur, time.Now()
	if a.prevInode != 0 && a.saved.Inode != a.prevInode {
		source := "router:" + strconv.FormatUint(a.prevInode, 10)
		for _, l := range a.logs.all() {
			l.forget(source)
		}
		a.prevInode = 0
	}
}

// inodeOf returns the inode of the file at path.
func inodeOf(path string) (uint64, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return 0, err
	}
	return fi.Sys().(*syscall.Stat_t).Ino, nil
}
