package logs

import (
	"bytes"
	"context"
	"regexp"
	"strings"
	"time"

	jack "github.com/jack-paas/jack"
)

// Read calls fn with each record of q's environment that q selects, oldest
// first; with q.Follow it goes on with each new one, as soon as it is
// stored, until ctx ends or fn fails. It calls fn with nil each time it has
// caught up with the log, and every idleInterval while it waits. Its memory
// is a block of the log and a reorder window, whatever the size of the
// answer.
//
// The log holds records in the order they were collected, which is the
// order of their stamps but for instances writing at the same moment (each
// is read on its own) and a backlog read after a restart: Read puts them in
// order within a window of reorderRecords, flushed each time it catches up.
func (s *Store) Read(ctx context.Context, q jack.LogQuery, fn func(*jack.LogRecord) error) error {
	re, err := q.Validate()
	if err != nil {
		return err
	}
	l, err := s.Env(q.App, q.Env)
	if err != nil {
		return err
	}
	f := newFilter(q, re)
	end, wake := l.end()
	from := l.start()
	if q.N > 0 {
		if from, err = l.lastMatches(q.N, end, f.skipBlock, f.match); err != nil {
			return err
		}
	}
	it := l.iterator(from, end, f.skipBlock)
	defer it.release()
	var window reorder
	for {
		r, _, ok, err := it.next()
		if err != nil {
			return err
		}
		if ok {
			if f.match(&r) {
				if err := window.push(r.toLogRecord(q.App, q.Env), fn); err != nil {
					return err
				}
			}
			continue
		}
		if err := window.flush(fn); err != nil {
			return err
		}
		if err := fn(nil); err != nil || !q.Follow {
			return err
		}
		if !waitIdle(ctx, wake, fn) {
			return nil
		}
		// Take the next wake-up before reading, so that no append between
		// the read and the wait goes unnoticed.
		it.until, wake = l.end()
	}
}

// idleInterval is how often a follow that waits tells its caller so.
const idleInterval = 15 * time.Second

// waitIdle waits for wake, calling fn(nil) every idleInterval; false if
// ctx ended or fn failed.
func waitIdle(ctx context.Context, wake <-chan struct{}, fn func(*jack.LogRecord) error) bool {
	tick := time.NewTicker(idleInterval)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return false
		case <-wake:
			return true
		case <-tick.C:
			if fn(nil) != nil {
				return false
			}
		}
	}
}

// filter is a query's selection, applied to stored records.
type filter struct {
	process, instance string
	containerID       bool // instance is a container ID prefix
	since, until      int64
	re                *regexp.Regexp
	// processBit, when not 0, is the bit a block's records of the selected
	// process set.
	processBit uint64
}

func newFilter(q jack.LogQuery, re *regexp.Regexp) *filter {
	f := &filter{process: q.Process, instance: q.Instance, re: re}
	f.containerID = q.Instance != "" && !strings.Contains(q.Instance, ".") && isHex(q.Instance)
	switch {
	case q.Process != "":
		f.processBit = processBit([]byte(q.Process))
	case strings.Contains(q.Instance, "."):
		// web.1 is an instance of web; jack.deploy is of jack.
		process, _, _ := strings.Cut(q.Instance, ".")
		f.processBit = processBit([]byte(process))
	}
	if !q.Since.IsZero() {
		f.since = q.Since.UnixNano()
	}
	if !q.Until.IsZero() {
		f.until = q.Until.UnixNano()
	}
	return f
}

// skipBlock reports whether no record of a block can be selected: none is
// in the time range, or none is of the process.
func (f *filter) skipBlock(b *blockInfo) bool {
	return f.since != 0 && b.MaxTime < f.since || f.until != 0 && b.MinTime >= f.until ||
		f.processBit != 0 && b.Processes&f.processBit == 0
}

// match reports whether a record is selected.
func (f *filter) match(r *rawRecord) bool {
	if f.since != 0 && r.Time < f.since || f.until != 0 && r.Time >= f.until {
		return false
	}
	if f.process != "" && string(r.Process) != f.process {
		return false
	}
	if f.instance != "" && !f.matchInstance(r) {
		return false
	}
	return f.re == nil || f.re.Match(r.Line)
}

// matchInstance matches the instance by its name (web.1), by what people
// see of it (jack.deploy), or by a prefix of its container's ID.
func (f *filter) matchInstance(r *rawRecord) bool {
	if string(r.Instance) == f.instance {
		return true
	}
	if f.containerID && len(r.Source) > 0 && bytes.HasPrefix(r.Source, []byte(f.instance)) {
		return true
	}
	if len(r.Instance) > 0 && !bytes.HasPrefix(r.Instance, append(r.Process, '.')) {
		return string(r.Process)+"."+string(r.Instance) == f.instance
	}
	return false
}

func isHex(s string) bool {
	for _, c := range s {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}
