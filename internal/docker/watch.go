package docker

import (
	"context"
	"strconv"
	"time"

	"github.com/docker/docker/api/types/events"
	jack "github.com/jack-paas/jack"
	"github.com/jack-paas/jack/internal/wait"
)

// Back-off between attempts to reconnect to the engine's event stream.
const (
	watchMinDelay = 100 * time.Millisecond
	watchMaxDelay = 5 * time.Second
	watchBuffer   = 256
)

// Watch sends the start, die and oom events of the runtime's containers
// until ctx ends, then closes the channel. Events of containers that change
// after Watch returns are sent (when the engine answers), so a caller that
// calls Watch and then List misses nothing. When the event stream breaks
// (the engine restarted) it reconnects with back-off and sends a "resync"
// event, since events may have been missed: the receiver should List again.
// It never makes the engine wait: when the receiver falls behind and the
// buffer is full, events are dropped and a "resync" follows.
func (r *Runtime) Watch(ctx context.Context) <-chan jack.ContainerEvent {
	out := make(chan jack.ContainerEvent, watchBuffer)
	opts := events.ListOptions{Filters: r.managedFilter()}
	opts.Filters.Add("type", string(events.ContainerEventType))
	for _, a := range []events.Action{events.ActionStart, events.ActionDie, events.ActionOOM} {
		opts.Filters.Add("event", string(a))
	}
	// The first subscription is made before returning: Events returns once
	// the engine has answered (or failed to).
	msgs, errs := r.cli.Events(ctx, opts)
	go r.watch(ctx, opts, msgs, errs, out)
	return out
}

// watch forwards events and reconnects until ctx ends.
func (r *Runtime) watch(ctx context.Context, opts events.ListOptions, msgs <-chan events.Message, errs <-chan error, out chan<- jack.ContainerEvent) {
	defer close(out)
	delay := watchMinDelay
	for {
		err := r.forward(ctx, msgs, errs, out, &delay)
		if ctx.Err() != nil {
			return
		}
		r.logger.Warn("lost the Docker event stream; reconnecting", "err", err)
		if !r.awaitEngine(ctx, &delay) {
			return
		}
		msgs, errs = r.cli.Events(ctx, opts)
		r.logger.Info("reconnected to the Docker event stream")
		if !r.send(ctx, out, jack.ContainerEvent{Action: "resync"}) {
			return
		}
	}
}

// forward copies events to out until the stream ends, and returns why it
// ended. Each event received resets the reconnect delay.
func (r *Runtime) forward(ctx context.Context, msgs <-chan events.Message, errs <-chan error, out chan<- jack.ContainerEvent, delay *time.Duration) error {
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case err := <-errs:
			return err
		case m := <-msgs:
			*delay = watchMinDelay
			ev := toEvent(m)
			select {
			case out <- ev:
			default:
				// The receiver is behind: drop this event and tell it to resync
				// as soon as it catches up.
				r.logger.Warn("event receiver is behind; dropping an event and asking for a resync", "container", ev.ID, "action", ev.Action)
				if !r.send(ctx, out, jack.ContainerEvent{Action: "resync"}) {
					return ctx.Err()
				}
			}
		}
	}
}

// send sends ev, waiting for room; false if ctx ended first.
func (r *Runtime) send(ctx context.Context, out chan<- jack.ContainerEvent, ev jack.ContainerEvent) bool {
	select {
	case out <- ev:
		return true
	case <-ctx.Done():
		return false
	}
}

// toEvent turns an engine event into Jack's.
func toEvent(m events.Message) jack.ContainerEvent {
	attrs := m.Actor.Attributes
	ev := jack.ContainerEvent{ID: m.Actor.ID, App: attrs[jack.LabelApp], Env: attrs[jack.LabelEnv], Action: string(m.Action)}
	if code, ok := attrs["exitCode"]; ok {
		ev.ExitCode, _ = strconv.Atoi(code)
	}
	return ev
}

// sleep waits d; false if ctx ended first.
// awaitEngine pings the engine, waiting *delay before each try and
// doubling it up to watchMaxDelay, until it answers (true) or ctx ends.
func (r *Runtime) awaitEngine(ctx context.Context, delay *time.Duration) bool {
	for {
		if !wait.Sleep(ctx, *delay) {
			return false
		}
		*delay = min(2**delay, watchMaxDelay)
		if _, err := r.cli.Ping(ctx); err == nil {
			return true
		}
	}
}
