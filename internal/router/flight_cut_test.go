package router

import (
	"context"
	"errors"
	"testing"
	"time"
)

type closeCounter struct{ n int }

func (c *closeCounter) Close() error { c.n++; return nil }

func TestCuttingAFlightClosesWhatItWaitsOnOnce(t *testing.T) {
	f := &flight{}
	f.parent = context.Background()
	kept, waiting := &closeCounter{}, &closeCounter{}
	id := f.closeOnCut(kept)
	f.closeOnCut(waiting)
	if !f.keep(id) {
		t.Fatal("keep of a registered closer reported it closed")
	}
	dial, cancel := context.WithTimeout(f, time.Minute) // as a dial does
	defer cancel()
	if f.Err() != nil || dial.Err() != nil {
		t.Fatal("a flight that runs is not canceled")
	}

	f.cut(errDrainTimeout)
	f.cut(errClientGone)
	if kept.n != 0 || waiting.n != 1 {
		t.Errorf("closed %d kept and %d waiting closers; want 0 and 1", kept.n, waiting.n)
	}
	if !errors.Is(f.cutCause(), errDrainTimeout) || f.Err() != context.Canceled {
		t.Errorf("cause %v, err %v; want the first cause and context.Canceled", f.cutCause(), f.Err())
	}
	select {
	case <-dial.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("a context derived from the flight was not canceled with it")
	}
	late := &closeCounter{}
	if id := f.closeOnCut(late); id != 0 || late.n != 1 || f.keep(id) {
		t.Errorf("a closer registered after the cut: id %d, closed %d times", id, late.n)
	}
}
