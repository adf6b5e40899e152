package router

import (
	"bufio"
	"bytes"
	"errors"
	"io/fs"
	"log/slog"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"
)

// The access log is one JSON object per line in DATA/router-access.ndjson,
// renamed to router-access.ndjson.1 (replacing the previous one) once it
// passes accessLogLimit. Its fields are a contract with the log collector:
// time (RFC 3339 with nanoseconds), env ("app/env", "" for unknown hosts),
// host, method, path, status, bytes, duration_ms, instance (the upstream's
// container ID, "" for static files and the router's own responses),
// request_id and client (the client's IP address).
const (
	accessLogName      = "router-access.ndjson"
	defaultAccessLimit = 64 << 20
	accessPending      = 8 << 20 // formatted bytes waiting for the writer; past it records are dropped
	// accessLogDelay is how long the writer lets records gather before it
	// writes them: one wake-up and a few system calls per batch, however
	// many requests a second the router serves.
	accessLogDelay = 50 * time.Millisecond
)

// accessRecord is one request, as logged.
type accessRecord struct {
	Time      time.Time
	Env       string
	Host      string
	Method    string
	Path      string
	Status    int
	Bytes     int64
	Duration  time.Duration
	Instance  string
	RequestID string
	Client    string
}

// accessLog gathers formatted records in memory and writes them in batches
// from its own goroutine, so that the request path never waits for the
// disk and never wakes another goroutine (a wake-up per request, with its
// switch and its write, cost the router static-file throughput and
// lengthened its tail; bench/README.md): the first record of a batch wakes
// the writer, which waits accessLogDelay for the rest. When accessPending
// bytes are waiting, records are dropped and counted.
type accessLog struct {
	path   string
	limit  int64
	logger *slog.Logger

	mu      sync.Mutex
	pending []byte // whole lines
	closed  bool

	wake    chan struct{} // cap 1: the writer has a batch to wait for
	written atomic.Int64
	dropped atomic.Int64
	done    chan struct{}
	once    sync.Once
}

// openAccessLog starts the writer of the access log at path, rotated past
// limit bytes (0: 64 MiB).
func openAccessLog(path string, limit int64, logger *slog.Logger) *accessLog {
	if limit <= 0 {
		limit = defaultAccessLimit
	}
	l := &accessLog{path: path, limit: limit, logger: logger, wake: make(chan struct{}, 1), done: make(chan struct{})}
	go l.run()
	return l
}

// add formats a record into the pending batch without waiting.
func (l *accessLog) add(rec accessRecord) {
	l.mu.Lock()
	if l.closed || len(l.pending) >= accessPending {
		l.mu.Unlock()
		l.dropped.Add(1)
		return
	}
	if len(l.pending) == 0 {
		select {
		case l.wake <- struct{}{}: // under mu: close cannot have closed it
		default:
		}
	}
	l.pending = appendRecord(l.pending, &rec)
	l.mu.Unlock()
}

func (l *accessLog) counters() AccessLogCounters {
	return AccessLogCounters{Written: l.written.Load(), Dropped: l.dropped.Load()}
}

// close writes what is pending and stops the writer.
func (l *accessLog) close() {
	l.once.Do(func() {
		l.mu.Lock()
		l.closed = true
		close(l.wake)
		l.mu.Unlock()
	})
	<-l.done
}

// run writes a batch each time the first record of one arrives, after
// letting the batch gather for accessLogDelay (or at once when closing).
func (l *accessLog) run() {
	defer close(l.done)
	f := &accessLogFile{path: l.path, limit: l.limit, logger: l.logger}
	defer f.close()
	var batch []byte
	for {
		_, open := <-l.wake
		if open {
			time.Sleep(accessLogDelay)
		}
		l.mu.Lock()
		batch, l.pending = l.pending, batch[:0]
		l.mu.Unlock()
		if len(batch) > 0 {
			l.writeBatch(f, batch)
			f.flush()
		}
		if !open {
			return
		}
		if cap(batch) > 1<<20 {
			batch = nil // a burst's buffer is not kept for good
		}
	}
}

// writeBatch writes a batch of lines in as few writes as the rotation
// allows: each chunk is the whole lines that fit before the file reaches
// its limit (at least one line, which rotates the file first). One large
// write holds a processor for less time than many small ones, and requests
// queue behind whatever holds it.
func (l *accessLog) writeBatch(f *accessLogFile, batch []byte) {
	if f.file == nil && !f.open() { // open first: the chunks need its size
		l.dropped.Add(int64(bytes.Count(batch, []byte{'\n'})))
		return
	}
	for len(batch) > 0 {
		n := chunkBefore(batch, f.limit-f.size)
		lines := int64(bytes.Count(batch[:n], []byte{'\n'}))
		if f.write(batch[:n]) {
			l.written.Add(lines)
		} else {
			l.dropped.Add(lines)
		}
		batch = batch[n:]
	}
}

// chunkBefore returns the length of the longest run of whole lines at the
// start of batch that is at most room bytes, or of its first line if even
// that is longer.
func chunkBefore(batch []byte, room int64) int {
	if int64(len(batch)) <= room {
		return len(batch)
	}
	first := bytes.IndexByte(batch, '\n') + 1
	if room < int64(first) {
		return first
	}
	return bytes.LastIndexByte(batch[:room], '\n') + 1
}

// accessLogFile is the open access log, rotated by size.
type accessLogFile struct {
	path      string
	limit     int64
	logger    *slog.Logger
	file      *os.File
	w         *bufio.Writer
	size      int64
	retryOpen time.Time
}

// write appends a line, opening or rotating the file as needed, and
// reports whether it did.
func (f *accessLogFile) write(line []byte) bool {
	if f.file != nil && f.size > 0 && f.size+int64(len(line)) > f.limit {
		f.close()
		if err := os.Rename(f.path, f.path+".1"); err != nil && !errors.Is(err, fs.ErrNotExist) {
			f.logger.Warn("could not rotate the access log", "err", err)
		}
	}
	if f.file == nil && !f.open() {
		return false
	}
	if _, err := f.w.Write(line); err != nil {
		f.logger.Warn("could not write the access log", "err", err)
		f.close()
		return false
	}
	f.size += int64(len(line))
	return true
}

func (f *accessLogFile) open() bool {
	if time.Now().Before(f.retryOpen) {
		return false
	}
	file, err := os.OpenFile(f.path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		f.logger.Error("could not open the access log; records are dropped until it opens", "path", f.path, "err", err)
		f.retryOpen = time.Now().Add(5 * time.Second)
		return false
	}
	f.file, f.w, f.size = file, bufio.NewWriterSize(file, 64<<10), 0
	if st, err := file.Stat(); err == nil {
		f.size = st.Size()
	}
	return true
}

func (f *accessLogFile) flush() {
	if f.w != nil {
		if err := f.w.Flush(); err != nil {
			f.logger.Warn("could not write the access log", "err", err)
			f.close()
		}
	}
}

func (f *accessLogFile) close() {
	if f.file != nil {
		f.w.Flush()
		f.file.Close()
		f.file, f.w = nil, nil
	}
}

// appendRecord appends rec as one JSON line.
func appendRecord(b []byte, r *accessRecord) []byte {
	b = append(b, `{"time":"`...)
	b = r.Time.UTC().AppendFormat(b, time.RFC3339Nano)
	b = append(b, `","env":`...)
	b = appendJSONString(b, r.Env)
	b = append(b, `,"host":`...)
	b = appendJSONString(b, r.Host)
	b = append(b, `,"method":`...)
	b = appendJSONString(b, r.Method)
	b = append(b, `,"path":`...)
	b = appendJSONString(b, r.Path)
	b = append(b, `,"status":`...)
	b = strconv.AppendInt(b, int64(r.Status), 10)
	b = append(b, `,"bytes":`...)
	b = strconv.AppendInt(b, r.Bytes, 10)
	b = append(b, `,"duration_ms":`...)
	b = strconv.AppendFloat(b, float64(r.Duration.Microseconds())/1000, 'f', 3, 64)
	b = append(b, `,"instance":`...)
	b = appendJSONString(b, r.Instance)
	b = append(b, `,"request_id":`...)
	b = appendJSONString(b, r.RequestID)
	b = append(b, `,"client":`...)
	b = appendJSONString(b, r.Client)
	return append(b, "}\n"...)
}

const hexDigits = "0123456789abcdef"

// appendJSONString appends s as a JSON string; invalid UTF-8 becomes
// U+FFFD, as encoding/json does.
func appendJSONString(b []byte, s string) []byte {
	b = append(b, '"')
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			switch {
			case c == '"' || c == '\\':
				b = append(b, '\\', c)
			case c < 0x20 || c == 0x7f:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			default:
				b = append(b, c)
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, `\ufffd`...)
		} else if r == '\u2028' || r == '\u2029' {
			b = append(b, `\u202`...)
			b = append(b, hexDigits[r&0xf])
		} else {
			b = append(b, s[i:i+size]...)
		}
		i += size
	}
	return append(b, '"')
}
