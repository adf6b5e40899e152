package logs

import (
	"context"
	"errors"
	"io"
	"sync"
	"sync/atomic"
	"time"

	jack "github.com/jack-paas/jack"
)

// Back-off of a follower whose engine does not answer.
const (
	followMinDelay = 100 * time.Millisecond
	followMaxDelay = 5 * time.Second
)

// follower reads one container's output into its environment's log, from
// its cursor on, again each time the container starts, until the
// container is gone.
type follower struct {
	c      *Collector
	info   *jack.LogContainer
	log    *envLog
	source string // the cursor's name: the container's short ID
	wake   chan struct{}

	// stallWait is how long a stream may stay quiet before the watchdog
	// asks the engine whether it holds newer lines.
	stallWait time.Duration
	// catchingUp is set while the follower reads a container whose stream
	// follows fragilely without following (see errBehind); newest is the
	// stamp of the newest line it stored.
	catchingUp bool
	newest     int64

	mu     sync.Mutex
	idleCh chan struct{} // closed the next time it has read its stopped container to the end
	gone   bool
}

func newFollower(c *Collector, info *jack.LogContainer, l *envLog) *follower {
	return &follower{c: c, info: info, log: l, source: jack.ShortID(info.ID), wake: make(chan struct{}, 1), idleCh: make(chan struct{}), stallWait: c.StallCheck}
}

// wakeUp makes a waiting follower look at its container again.
func (f *follower) wakeUp() {
	select {
	case f.wake <- struct{}{}:
	default:
	}
}

// finish wakes the follower and waits until it has read its stopped
// container to the end once more; false if ctx ended first.
func (f *follower) finish(ctx context.Context) bool {
	f.mu.Lock()
	if f.gone {
		f.mu.Unlock()
		return true
	}
	ch := f.idleCh
	f.mu.Unlock()
	f.wakeUp()
	select {
	case <-ch:
		return true
	case <-ctx.Done():
		return false
	}
}

// idle tells the waiters of finish that the container is read to its end.
func (f *follower) idle(gone bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.gone = f.gone || gone
	close(f.idleCh)
	f.idleCh = make(chan struct{})
}

// run follows the container until it is gone or ctx ends.
func (f *follower) run(ctx context.Context) {
	delay := followMinDelay
	failing := false
	settled := false // read once more after the stream of a stopped container ended
	for ctx.Err() == nil {
		progressed, err := f.readOnce(ctx)
		if progressed {
			delay = followMinDelay
		}
		if ctx.Err() != nil {
			return
		}
		if jack.ErrorCode(err) == jack.ENOTFOUND {
			f.end()
			return
		}
		if errors.Is(err, errStalled) {
			// Open it again at the cursor; if the stream it replaced
			// brought nothing, give the next one longer to start: a busy
			// engine may take seconds to find the cursor in its files, and
			// a watchdog that gave up on each stream sooner would never
			// let one arrive.
			if progressed {
				f.stallWait = f.c.StallCheck
			} else {
				f.stallWait = min(2*f.stallWait, stallCheckMax)
			}
			continue
		}
		if errors.Is(err, jack.ErrLogReopen) {
			continue // open it again at the cursor
		}
		if errors.Is(err, errBehind) {
			f.catchingUp = true
			continue
		}
		if err == nil && f.catchingUp {
			// A read without following ended: follow again once it brought
			// nothing more, or the lines up to a moment ago.
			if !progressed || time.Since(time.Unix(0, f.newest)) < f.c.CatchUpLag {
				f.catchingUp = false
			}
			continue
		}
		if err == nil {
			// The stream ended: the container stopped (and maybe started
			// again since), or the engine went away.
			info, ierr := f.c.source.InspectLogContainer(ctx, f.info.ID)
			switch {
			case jack.ErrorCode(ierr) == jack.ENOTFOUND:
				f.end()
				return
			case ierr == nil && info.Running:
				settled = false
				continue
			case ierr == nil && !settled:
				// The engine ends a follow as the container stops, and may
				// store what the app wrote last (a line without newline)
				// just after: read once more, now that it has stopped.
				settled = true
				continue
			case ierr == nil:
				failing, settled = false, false
				f.idle(false)
				if !f.waitWake(ctx, 0) {
					return
				}
				continue
			}
			err = ierr
		}
		if !failing {
			f.c.logger.Warn("reading a container's output failed; retrying", "container", f.source, "env", f.log.app+"/"+f.log.env, "err", err)
			failing = true
		}
		if !f.waitWake(ctx, delay) {
			return
		}
		delay = min(2*delay, followMaxDelay)
	}
}

// end forgets a container that is gone.
func (f *follower) end() {
	f.log.forget(f.source)
	f.idle(true)
}

// waitWake waits for a wake-up, or for d when d > 0; false if ctx ended.
func (f *follower) waitWake(ctx context.Context, d time.Duration) bool {
	var timeout <-chan time.Time
	if d > 0 {
		t := time.NewTimer(d)
		defer t.Stop()
		timeout = t.C
	}
	select {
	case <-ctx.Done():
		return false
	case <-f.wake:
	case <-timeout:
	}
	return true
}

// errStalled ends a read whose stream the watchdog found stuck.
var errStalled = errors.New("the engine's log stream stalled")

// errBehind ends the follow of a stream whose follow is fragile, once it
// is more than the collector's CatchUpLag behind the container: the
// follower reads without following until it has caught up.
var errBehind = errors.New("the follow of the engine's log stream fell behind")

// readOnce opens the container's output at the cursor, skips what the log
// holds already and stores the rest until the stream ends (nil) or fails.
func (f *follower) readOnce(ctx context.Context) (progressed bool, err error) {
	cur := f.log.Cursor(f.source)
	follow := !f.catchingUp
	stream, err := f.c.source.OpenLogs(ctx, f.info.ID, cur.since(), follow)
	if err != nil {
		return false, err
	}
	defer stream.Close()
	fragile := false
	if ff, ok := stream.(jack.FragileFollow); ok && follow {
		fragile = ff.FollowIsFragile()
	}
	var lastRead atomic.Int64
	lastRead.Store(time.Now().UnixNano())
	var stalled atomic.Bool
	watchCtx, stopWatch := context.WithCancel(ctx)
	defer stopWatch()
	go f.watchdog(watchCtx, stream, &lastRead, &stalled)

	skip := cur.skipper()
	newest := cur.Newest // the newest stamp stored
	defer func() { f.newest = newest }()
	recs := make([]record, 0, 256)
	var lastBatch time.Time
	for {
		lines, err := stream.Read()
		now := time.Now()
		lastRead.Store(now.UnixNano())
		if stalled.Load() {
			return progressed, errStalled
		} else if errors.Is(err, io.EOF) {
			return progressed, nil
		} else if err != nil {
			return progressed, err
		}
		recs = recs[:0]
		for _, ln := range lines {
			t := ln.Time.UnixNano()
			if skip.skip(t) {
				continue
			}
			if t < newest-int64(wentBackSlack) {
				// The stream went back: the engine's follow (Docker 20.10's)
				// sends a file again when it rotates under a reader that is
				// behind. Store none of it twice: when it went back before
				// the cursor's floor, skip what the cursor counts, as a
				// stream opened there would (opening one would meet the same
				// rotation again); else open the stream again there.
				if err := f.log.append(recs); err != nil {
					return progressed, err
				}
				progressed = progressed || len(recs) > 0
				recs = recs[:0]
				cur := f.log.Cursor(f.source)
				if t >= cur.Floor {
					f.c.logger.Debug("the engine's log stream of a container went back; opening it again", "container", f.source)
					return progressed, jack.ErrLogReopen
				}
				f.c.logger.Debug("the engine's log stream of a container went back; skipping what is stored", "container", f.source)
				skip = cur.skipper()
				skip.skip(t) // before the floor: stored
				continue
			}
			newest = max(newest, t)
			recs = append(recs, record{
				Time: t, Stream: ln.Stream, Release: f.info.Release, Source: f.source,
				Process: f.info.Process, Instance: f.info.Instance, Line: ln.Line,
			})
		}
		if err := f.log.append(recs); err != nil {
			// Read again from the cursor, which counts only what was stored.
			return progressed, err
		}
		progressed = true
		if fragile && now.Sub(time.Unix(0, newest)) > f.c.CatchUpLag {
			return progressed, errBehind
		}
		if len(lines) < burstLines && now.Sub(lastBatch) < burstGap {
			// A burst read a few lines at a time costs a read from the
			// engine per line or so: let lines gather for a moment.
			time.Sleep(burstPause)
		}
		lastBatch = now
	}
}

// wentBackSlack is how far before the newest line stored a line may be
// stamped without the stream being taken for one that went back: the
// engine's stdout and stderr copiers stamp lines a little out of order.
// Taking a late line for a step back only costs a stream opened again.
const wentBackSlack = 100 * time.Millisecond

// A follower in a burst of small reads (two within burstGap, the second of
// fewer than burstLines) pauses burstPause before the next, so that it
// reads many lines at once: a line waits at most that much longer, and the
// collector spends far less time in system calls.
const (
	burstLines = 128
	burstGap   = 2 * time.Millisecond
	burstPause = time.Millisecond
)

// stallCheckMax bounds the time between the watchdog's checks of a quiet
// stream.
const stallCheckMax = 30 * time.Second

// watchdog closes the stream when it has been quiet for a while although
// the engine holds lines newer than any stored: the engine's follow can
// stop delivering when its files rotate under a reader that is behind.
// The follower then opens the stream again at its cursor. A quiet stream is
// checked after the follower's stallWait, then less and less often.
func (f *follower) watchdog(ctx context.Context, stream jack.LogStream, lastRead *atomic.Int64, stalled *atomic.Bool) {
	interval := f.stallWait
	for {
		t := time.NewTimer(interval)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
		if time.Since(time.Unix(0, lastRead.Load())) < interval {
			interval = f.stallWait // it moves
			continue
		}
		latest, err := f.c.source.LatestLogTime(ctx, f.info.ID)
		if err == nil && latest.UnixNano() > f.log.Cursor(f.source).Newest {
			f.c.logger.Debug("the engine's log stream of a container stalled; opening it again", "container", f.source)
			stalled.Store(true)
			stream.Close()
			return
		}
		interval = min(2*interval, stallCheckMax)
	}
}
