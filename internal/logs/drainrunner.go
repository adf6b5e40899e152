package logs

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	jack "github.com/jack-paas/jack"
	"github.com/jack-paas/jack/internal/logs/drain"
	"github.com/jack-paas/jack/internal/wait"
)

// drainRunner delivers one drain's records: it reads the log from its
// cursor, sends a batch, and moves the cursor once the batch got there.
type drainRunner struct {
	d      *Drains
	env    *jack.Environment
	drain  *jack.LogDrain
	log    *envLog
	sender drain.Sender
	path   string // of the cursor file
	cancel context.CancelFunc
	done   chan struct{}

	// linger is how long the runner waits after a batch that was not full
	// before it reads the next, so that more lines go in each request:
	// HTTPS drains get batches, syslog ones each line at once.
	linger time.Duration

	sent  atomic.Int64
	it    *iterator   // where the last batch ended
	batch recordBatch // the batch read last

	mu        sync.Mutex
	cur       drainCursor
	saved     drainCursor
	lastSave  time.Time
	lastError string
	failing   time.Time
}

// drainCursor is what a drain's cursor file holds.
type drainCursor struct {
	Pos     Pos   `json:"pos"`
	Dropped int64 `json:"dropped"`
}

func newDrainRunner(d *Drains, env *jack.Environment, dr *jack.LogDrain, l *envLog, sender drain.Sender, atEnd bool) *drainRunner {
	r := &drainRunner{
		d: d, env: env, drain: dr, log: l, sender: sender, done: make(chan struct{}),
		path: filepath.Join(l.dir, fmt.Sprintf("drain-%d.json", dr.ID)),
	}
	if strings.HasPrefix(dr.URL, "https:") {
		r.linger = httpsLinger
	}
	buf, err := os.ReadFile(r.path)
	if err == nil && json.Unmarshal(buf, &r.cur) == nil && !atEnd {
		r.saved = r.cur
		return r
	}
	// A new drain (or one whose cursor is lost) starts with what comes next.
	r.cur.Pos, _ = l.end()
	r.save(true)
	return r
}

// run delivers batches until ctx ends.
func (r *drainRunner) run(ctx context.Context) {
	defer r.sender.Close()
	defer r.save(true)
	for ctx.Err() == nil {
		r.limitQueue()
		_, wake := r.log.end() // before reading: no append is missed
		batch, next, err := r.read()
		if err != nil {
			r.d.logger.Error("read the log for a drain", "drain", drain.Redact(r.drain.URL), "err", err)
			if !wait.Sleep(ctx, r.d.RetryMax) {
				return
			}
			continue
		}
		if len(batch) == 0 {
			select {
			case <-ctx.Done():
				return
			case <-wake:
			}
			continue
		}
		r.deliver(ctx, batch, next)
		if r.linger > 0 && len(batch) < drainBatchRecords && !wait.Sleep(ctx, r.linger) {
			return
		}
	}
}

// httpsLinger is the linger of HTTPS drains.
const httpsLinger = 200 * time.Millisecond

// read returns the records from the cursor on, up to a batch's size, and
// the position after them; valid until the next read.
func (r *drainRunner) read() ([]*jack.LogRecord, Pos, error) {
	r.mu.Lock()
	from := r.cur.Pos
	if start := r.log.start(); from.before(start) && from.Seq < start.Seq {
		r.cur.Pos, from = start, start
		r.mu.Unlock()
		r.d.event(r.env.ID, "Drain %s was so far behind that retention deleted lines it had not sent", drain.Redact(r.drain.URL))
	} else {
		r.mu.Unlock()
	}
	// The iterator goes on from where the last batch ended, its block read
	// once; a new one starts where the cursor was moved to.
	if r.it == nil || r.it.pos != from {
		r.it = r.log.iterator(from, Pos{}, nil)
	}
	it := r.it
	r.batch.reset()
	for len(r.batch.recs) < drainBatchRecords && len(r.batch.lines) < drainBatchBytes {
		rec, _, ok, err := it.next()
		if err != nil {
			r.it = nil
			return nil, from, err
		}
		if !ok {
			break
		}
		r.batch.add(&rec, r.env.App, r.env.Name)
	}
	return r.batch.records(), it.pos, nil
}

// recordBatch is a batch of LogRecords made from raw records, its memory
// reused from batch to batch: a drain converts every line a container
// writes, and five allocations per line cost it more than sending it.
type recordBatch struct {
	recs  []jack.LogRecord
	ptrs  []*jack.LogRecord
	lines []byte // the lines' bytes
	// The strings of the last record, which the next one most likely
	// shares.
	process, instance, container string
}

func (b *recordBatch) reset() { b.recs, b.ptrs, b.lines = b.recs[:0], b.ptrs[:0], b.lines[:0] }

// add adds a copy of raw as a record of app/env.
func (b *recordBatch) add(raw *rawRecord, app, env string) {
	if string(raw.Process) != b.process {
		b.process = string(raw.Process)
	}
	if string(raw.Instance) != b.instance {
		b.instance = string(raw.Instance)
	}
	rec := jack.LogRecord{
		Time: time.Unix(0, raw.Time).UTC(), App: app, Env: env,
		Process: b.process, Instance: b.instance, Release: raw.Release,
	}
	if int(raw.Stream) < len(streamNames) {
		rec.Stream = streamNames[raw.Stream]
	}
	if rec.Stream == jack.StreamStdout || rec.Stream == jack.StreamStderr {
		if string(raw.Source) != b.container {
			b.container = string(raw.Source)
		}
		rec.Container = b.container
	}
	start := len(b.lines)
	b.lines = append(b.lines, raw.Line...)
	rec.Line = b.lines[start:len(b.lines):len(b.lines)]
	b.recs = append(b.recs, rec)
}

// records returns the batch; valid until the next reset.
func (b *recordBatch) records() []*jack.LogRecord {
	for i := range b.recs {
		b.ptrs = append(b.ptrs, &b.recs[i])
	}
	return b.ptrs
}

// deliver sends a batch until it gets there, backing off between tries,
// unless the queue overflows meanwhile and the batch is dropped.
func (r *drainRunner) deliver(ctx context.Context, batch []*jack.LogRecord, next Pos) {
	delay := r.d.RetryMin
	for {
		err := r.sender.Send(ctx, batch)
		if err == nil {
			r.sent.Add(int64(len(batch)))
			r.mu.Lock()
			r.cur.Pos = next
			if !r.failing.IsZero() {
				r.d.logger.Info("drain delivers again", "env", r.env.Ref(), "drain", drain.Redact(r.drain.URL))
			}
			r.lastError, r.failing = "", time.Time{}
			r.mu.Unlock()
			r.save(false)
			return
		}
		if ctx.Err() != nil {
			return
		}
		r.mu.Lock()
		if r.failing.IsZero() {
			r.failing = time.Now()
			r.d.logger.Warn("drain failing; its lines wait in its queue", "env", r.env.Ref(), "drain", drain.Redact(r.drain.URL), "err", err)
		}
		r.lastError = err.Error()
		r.mu.Unlock()
		if !wait.Sleep(ctx, delay) {
			return
		}
		delay = min(2*delay, r.d.RetryMax)
		if r.limitQueue() {
			return // the batch was dropped with the oldest lines: read again
		}
	}
}

// limitQueue drops the oldest records of the queue when it is larger than
// its limit, down to nine tenths of it, and tells in an event. It reports
// whether it dropped any.
func (r *drainRunner) limitQueue() bool {
	limit := r.d.QueueBytes
	r.mu.Lock()
	from := r.cur.Pos
	r.mu.Unlock()
	queued := r.log.bytesAfter(from)
	if queued <= limit {
		return false
	}
	excess := queued - limit/10*9
	it := r.log.iterator(from, Pos{}, nil)
	defer it.release()
	var dropped, size int64
	for size < excess {
		if _, after, ok, err := it.next(); err != nil || !ok {
			break
		} else if after.Seq == it.start.Seq {
			size += after.Off - it.start.Off
		}
		dropped++
	}
	r.mu.Lock()
	r.cur.Pos = it.pos
	r.cur.Dropped += dropped
	r.mu.Unlock()
	r.save(true)
	r.d.event(r.env.ID, "Drain %s fell more than %d MiB behind; dropped its %d oldest lines", drain.Redact(r.drain.URL), limit>>20, dropped)
	return true
}

// save writes the cursor when it moved, at most every drainSaveInterval
// unless now.
func (r *drainRunner) save(now bool) {
	r.mu.Lock()
	cur := r.cur
	due := cur != r.saved && (now || time.Since(r.lastSave) >= drainSaveInterval)
	r.mu.Unlock()
	if !due {
		return
	}
	buf, _ := json.Marshal(cur)
	if err := writeFileAtomic(r.path, buf); err != nil {
		r.d.logger.Error("save a drain's cursor", "drain", drain.Redact(r.drain.URL), "err", err)
		return
	}
	r.mu.Lock()
	r.saved, r.lastSave = cur, time.Now()
	r.mu.Unlock()
}

// stop ends the runner; forget also removes its cursor file.
func (r *drainRunner) stop(forget bool) {
	r.cancel()
	<-r.done
	if forget {
		os.Remove(r.path)
	}
}

// status returns how the drain is doing.
func (r *drainRunner) status() *jack.DrainStatus {
	r.mu.Lock()
	defer r.mu.Unlock()
	st := &jack.DrainStatus{
		LogDrain: *r.drain, Sent: r.sent.Load(), Pending: r.log.bytesAfter(r.cur.Pos),
		Dropped: r.cur.Dropped, LastError: r.lastError, FailingAt: r.failing,
	}
	st.URL = drain.Redact(st.URL)
	return st
}

// bytesAfter returns the size of the records after pos.
func (l *envLog) bytesAfter(pos Pos) int64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	var n int64
	for _, s := range l.segments {
		switch {
		case s.seq > pos.Seq:
			n += s.raw
		case s.seq == pos.Seq:
			n += max(0, s.raw-pos.Off)
		}
	}
	return n
}
