package router

import (
	"context"
	"io"
	"sync"
	"time"
)

// A flight is cut when its request must stop: a drain that timed out, or a
// client that went away. Cutting closes what the flight is waiting on (the
// upstream connection) so that the goroutine serving it returns at once.
//
// The flight is its own context.Context for what needs one (dialing a new
// upstream connection), but the request path does not go through
// context.WithCancelCause and context.AfterFunc: they cost four
// allocations a request, over half of what proxying a request allocated.
// Closers registered with closeOnCut live in the flight itself.
type flightCut struct {
	mu      sync.Mutex
	cause   error         // why the flight was cut; nil while it runs
	done    chan struct{} // made when Done is first asked for
	parent  context.Context
	closers []cutCloser
	buf     [2]cutCloser // backing of closers for the common case
	nextID  uint64
}

type cutCloser struct {
	id uint64
	c  io.Closer
}

// closerFunc makes a func an io.Closer without an allocation.
type closerFunc func()

func (f closerFunc) Close() error { f(); return nil }

// cut cuts the flight with cause, once: it closes every registered closer.
func (f *flightCut) cut(cause error) {
	f.mu.Lock()
	if f.cause != nil {
		f.mu.Unlock()
		return
	}
	f.cause = cause
	if f.done != nil {
		close(f.done)
	}
	closers := f.closers
	f.closers = nil
	f.mu.Unlock()
	for _, c := range closers {
		c.c.Close()
	}
}

// cutCause returns why the flight was cut, or nil.
func (f *flightCut) cutCause() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.cause
}

// closeOnCut closes c when the flight is cut (at once if it was) until
// keep is called with the id it returns.
func (f *flightCut) closeOnCut(c io.Closer) uint64 {
	id := f.register(c)
	if id == 0 {
		c.Close()
	}
	return id
}

// register adds c to the closers, or returns 0 if the flight was cut.
func (f *flightCut) register(c io.Closer) uint64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.cause != nil {
		return 0
	}
	if f.closers == nil {
		f.closers = f.buf[:0]
	}
	f.nextID++
	f.closers = append(f.closers, cutCloser{f.nextID, c})
	return f.nextID
}

// keep unregisters a closer and reports whether it had not been closed.
func (f *flightCut) keep(id uint64) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	for i, c := range f.closers {
		if c.id == id {
			f.closers = append(f.closers[:i], f.closers[i+1:]...)
			return true
		}
	}
	return false
}

// Deadline, Done, Err and Value make the flight a context.Context, cut
// (canceled) when the flight is; AfterFunc lets contexts derived from it
// follow it without a goroutine.

func (f *flightCut) Deadline() (time.Time, bool) { return f.parent.Deadline() }

func (f *flightCut) Done() <-chan struct{} {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.done == nil {
		f.done = make(chan struct{})
		if f.cause != nil {
			close(f.done)
		}
	}
	return f.done
}

func (f *flightCut) Value(key any) any { return f.parent.Value(key) }

func (f *flightCut) Err() error {
	if f.cutCause() != nil {
		return context.Canceled
	}
	return nil
}

func (f *flightCut) AfterFunc(fn func()) (stop func() bool) {
	id := f.register(closerFunc(fn))
	if id == 0 {
		go fn() // as context.AfterFunc does: never under the caller's locks
		return func() bool { return false }
	}
	return func() bool { return f.keep(id) }
}
