package docker

import (
	"context"
	"net/http"
	"testing"
	"time"

	jack "github.com/jack-paas/jack"
)

// waitEvent waits for the container's event with the action.
func waitEvent(t *testing.T, events <-chan jack.ContainerEvent, id, action string) jack.ContainerEvent {
	t.Helper()
	deadline := time.After(20 * time.Second)
	for {
		select {
		case ev, ok := <-events:
			if !ok {
				t.Fatalf("event channel closed before %s of %.12s", action, id)
			}
			if ev.ID == id && ev.Action == action {
				return ev
			}
		case <-deadline:
			t.Fatalf("no %s event of %.12s in 20s", action, id)
		}
	}
}

func TestWatchSeesStartAndDie(t *testing.T) {
	r, cli := newRuntime(t)
	image := testImage(t, cli)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	events := r.Watch(ctx)

	c := start(t, r, webSpec(image, 1))
	ev := waitEvent(t, events, c.ID, "start")
	if ev.App != "notes" || ev.Env != "production" {
		t.Errorf("start event %+v does not name the environment", ev)
	}
	get(t, "http://"+c.Address+"/health")
	go http.Get("http://" + c.Address + "/exit?code=4")
	if ev := waitEvent(t, events, c.ID, "die"); ev.ExitCode != 4 {
		t.Errorf("die event has exit code %d, want 4", ev.ExitCode)
	}

	cancel()
	for range events {
	}
}

func TestWatchSeesOnlyTheRuntimesOwnContainers(t *testing.T) {
	r, cli := newRuntime(t)
	image := testImage(t, cli)
	other, _ := newRuntimeOf(t, "other-owner")
	otherEvents := other.Watch(t.Context())
	mine := r.Watch(t.Context())

	c := start(t, r, webSpec(image, 1))
	waitEvent(t, mine, c.ID, "start")
	// Events arrive in order: a marker container of the other runtime,
	// started after ours, proves ours was filtered out before it.
	marker := start(t, other, webSpec(image, 2))
	for ev := range otherEvents {
		if ev.ID == c.ID {
			t.Fatalf("a runtime of another owner saw %+v", ev)
		}
		if ev.ID == marker.ID {
			break
		}
	}
}

func TestWatchClosesItsChannelWhenTheContextEnds(t *testing.T) {
	r, _ := newRuntime(t)
	ctx, cancel := context.WithCancel(context.Background())
	events := r.Watch(ctx)
	cancel()
	for range events {
	}
}
