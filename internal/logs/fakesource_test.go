package logs

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	jack "github.com/jack-paas/jack"
)

// fakeEngine is a jack.LogSource with the engine's semantics: each
// container keeps every line it wrote with its stamp, in the order stored;
// a read from a time returns the lines stamped at or after it, follows a
// running container and ends when it stops. It can go down like an engine
// that restarts: open streams break and calls fail until it is up again.
type fakeEngine struct {
	mu         sync.Mutex
	containers map[string]*fakeContainer
	down       bool
	stallAfter int // when > 0, a stream stops after so many lines written since it opened, as the engine's follow can
	// goBackAt, when > 0, makes each stream send the lines from the first
	// again once it has sent that many, as Docker 20.10's follow does when
	// a file rotates under a reader that is behind.
	goBackAt int
	// reopenAfter, when > 0, ends each stream with jack.ErrLogReopen after
	// so many lines written since it opened, as the file reader does when
	// it loses its place.
	reopenAfter int
	// openDelay holds back the first line of each stream, as a busy engine
	// takes a while to find since in its files.
	openDelay time.Duration
	// fragile makes the streams' follow fragile as Docker 20.10's: a
	// following stream more than a second behind the lines' stamps skips
	// ten lines at its second read.
	fragile bool
	changed chan struct{} // closed at each change
	starts  chan string
}

type fakeContainer struct {
	info  jack.LogContainer
	lines []jack.LogLine
}

func newFakeEngine() *fakeEngine {
	return &fakeEngine{containers: map[string]*fakeContainer{}, changed: make(chan struct{}), starts: make(chan string, 100)}
}

// changedLocked wakes the streams.
func (e *fakeEngine) changedLocked() {
	close(e.changed)
	e.changed = make(chan struct{})
}

// add makes a running container of notes/production.
func (e *fakeEngine) add(id, instance string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	process := instance[:len(instance)-2]
	e.containers[id] = &fakeContainer{info: jack.LogContainer{ID: id, App: "notes", Env: "production", Process: process, Instance: instance, Release: 1, Running: true}}
	e.changedLocked()
	e.starts <- id
}

// write stores lines of a container stamped at, in order.
func (e *fakeEngine) write(id, stream string, at time.Time, lines ...string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	c := e.containers[id]
	for _, l := range lines {
		c.lines = append(c.lines, jack.LogLine{Time: at, Stream: stream, Line: []byte(l)})
	}
	e.changedLocked()
}

// setRunning stops or starts a container.
func (e *fakeEngine) setRunning(id string, running bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.containers[id].info.Running = running
	e.changedLocked()
	if running {
		e.starts <- id
	}
}

// remove deletes a container and its lines.
func (e *fakeEngine) remove(id string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	delete(e.containers, id)
	e.changedLocked()
}

// setDown makes the engine stop or start answering.
func (e *fakeEngine) setDown(down bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.down = down
	e.changedLocked()
	if !down {
		e.starts <- "" // events may have been missed
	}
}

var errDown = jack.Errorf(jack.EUNAVAILABLE, "the fake engine is down")

func (e *fakeEngine) LogContainers(ctx context.Context) ([]*jack.LogContainer, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.down {
		return nil, errDown
	}
	var out []*jack.LogContainer
	for _, c := range e.containers {
		info := c.info
		out = append(out, &info)
	}
	return out, nil
}

func (e *fakeEngine) InspectLogContainer(ctx context.Context, id string) (*jack.LogContainer, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.down {
		return nil, errDown
	}
	c := e.containers[id]
	if c == nil {
		return nil, jack.Errorf(jack.ENOTFOUND, "container %s is gone", id)
	}
	info := c.info
	return &info, nil
}

func (e *fakeEngine) WatchLogContainers(ctx context.Context) <-chan string {
	out := make(chan string, 100)
	go func() {
		for {
			select {
			case <-ctx.Done():
				return
			case id := <-e.starts:
				out <- id
			}
		}
	}()
	return out
}

func (e *fakeEngine) LatestLogTime(ctx context.Context, id string) (time.Time, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.down {
		return time.Time{}, errDown
	}
	c := e.containers[id]
	if c == nil {
		return time.Time{}, jack.Errorf(jack.ENOTFOUND, "container %s is gone", id)
	}
	if len(c.lines) == 0 {
		return time.Time{}, nil
	}
	return c.lines[len(c.lines)-1].Time, nil
}

func (e *fakeEngine) OpenLogs(ctx context.Context, id string, since time.Time, follow bool) (jack.LogStream, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.down {
		return nil, errDown
	}
	if e.containers[id] == nil {
		return nil, jack.Errorf(jack.ENOTFOUND, "container %s is gone", id)
	}
	return &fakeStream{e: e, id: id, since: since, ctx: ctx, closed: make(chan struct{}), existing: len(e.containers[id].lines), opened: time.Now(), follow: follow}, nil
}

// fakeStream reads a fake container's lines from since on.
type fakeStream struct {
	e        *fakeEngine
	id       string
	since    time.Time
	ctx      context.Context
	next     int // index of the next line to consider
	existing int // lines there when it opened
	closed   chan struct{}
	opened   time.Time
	wentBack bool // went back once already
	follow   bool
	reads    int // reads that returned lines
}

func (s *fakeStream) Read() ([]jack.LogLine, error) {
	for {
		s.e.mu.Lock()
		c := s.e.containers[s.id]
		switch {
		case s.e.down:
			s.e.mu.Unlock()
			return nil, fmt.Errorf("the engine's log stream broke: %w", io.ErrUnexpectedEOF)
		case c == nil:
			s.e.mu.Unlock()
			return nil, io.EOF
		}
		if wait := s.e.openDelay - time.Since(s.opened); wait > 0 {
			s.e.mu.Unlock()
			select {
			case <-time.After(wait):
				continue
			case <-s.closed:
				return nil, errors.New("stream closed")
			}
		}
		if s.e.reopenAfter > 0 && s.next >= s.existing+s.e.reopenAfter {
			s.e.mu.Unlock()
			return nil, jack.ErrLogReopen
		}
		if s.e.goBackAt > 0 && !s.wentBack && s.next >= s.e.goBackAt {
			s.next, s.wentBack = 0, true
		}
		if s.e.fragile && s.follow && s.reads == 1 && s.next < len(c.lines) && time.Since(c.lines[s.next].Time) > time.Second {
			s.next = min(len(c.lines), s.next+10) // lost
		}
		var out []jack.LogLine
		stall := func() bool { return s.e.stallAfter > 0 && s.next >= s.existing+s.e.stallAfter }
		stalled := stall()
		for !stalled && s.next < len(c.lines) && len(out) < 7 { // small batches, to cut reads anywhere
			l := c.lines[s.next]
			s.next++
			if !l.Time.Before(s.since) {
				out = append(out, l)
			}
			stalled = stall()
		}
		if len(out) > 0 {
			s.reads++
			s.e.mu.Unlock()
			return out, nil
		}
		if (!c.info.Running || !s.follow) && !stalled {
			s.e.mu.Unlock()
			return nil, io.EOF
		}
		changed := s.e.changed
		s.e.mu.Unlock()
		select {
		case <-changed:
		case <-s.closed:
			return nil, errors.New("stream closed")
		case <-s.ctx.Done():
			return nil, s.ctx.Err()
		}
	}
}

// FollowIsFragile says whether the engine was made fragile.
func (s *fakeStream) FollowIsFragile() bool { return s.e.fragile }

func (s *fakeStream) Close() error {
	select {
	case <-s.closed:
	default:
		close(s.closed)
	}
	return nil
}
