package logs

import (
	"context"
	"log/slog"
	"sync"
	"time"

	jack "github.com/jack-paas/jack"
)

// eventsSource is the cursor name of the platform's events in a log.
const eventsSource = "events"

// EventStore is what Events reads: environments and their events.
type EventStore interface {
	jack.EnvStore
	jack.EventStore
}

// Events copies the platform's events (deploy steps, restarts, health
// changes) into the logs of their environments, each once: the event store
// is the source, and each log's cursor is the ID of the last event it holds.
type Events struct {
	store  EventStore
	logs   *Store
	logger *slog.Logger
	// Interval is how often every environment is looked at without a
	// nudge; default 5s.
	Interval time.Duration

	nudges chan int64
	mu     sync.Mutex
	envs   map[int64]*jack.Environment
}

// NewEvents returns a copier of store's events into logs; Run runs it.
func NewEvents(store EventStore, logs *Store, logger *slog.Logger) *Events {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &Events{store: store, logs: logs, logger: logger, Interval: 5 * time.Second,
		nudges: make(chan int64, 256), envs: map[int64]*jack.Environment{}}
}

// Changed tells that an environment has a new event, so that it reaches
// its log at once. It never blocks.
func (e *Events) Changed(envID int64) {
	select {
	case e.nudges <- envID:
	default: // the next round takes it
	}
}

// Run copies events until ctx ends.
func (e *Events) Run(ctx context.Context) {
	tick := time.NewTicker(e.Interval)
	defer tick.Stop()
	e.syncAll(ctx)
	for {
		select {
		case <-ctx.Done():
			return
		case id := <-e.nudges:
			env, err := e.env(ctx, id)
			if err == nil && env != nil {
				err = e.sync(ctx, env)
			}
			if err != nil && ctx.Err() == nil {
				e.logger.Warn("copy events into the log", "env", id, "err", err)
			}
		case <-tick.C:
			e.syncAll(ctx)
		}
	}
}

// env returns an environment by ID from the cache, listing them again on
// a miss; nil if there is none.
func (e *Events) env(ctx context.Context, id int64) (*jack.Environment, error) {
	e.mu.Lock()
	env := e.envs[id]
	e.mu.Unlock()
	if env != nil {
		return env, nil
	}
	if _, err := e.list(ctx); err != nil {
		return nil, err
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.envs[id], nil
}

func (e *Events) list(ctx context.Context) ([]*jack.Environment, error) {
	envs, err := e.store.ListEnvs(ctx, "")
	if err != nil {
		return nil, err
	}
	m := make(map[int64]*jack.Environment, len(envs))
	for _, env := range envs {
		m[env.ID] = env
	}
	e.mu.Lock()
	e.envs = m
	e.mu.Unlock()
	return envs, nil
}

// syncAll copies the new events of every environment.
func (e *Events) syncAll(ctx context.Context) {
	envs, err := e.list(ctx)
	if err != nil {
		if ctx.Err() == nil {
			e.logger.Warn("list environments to copy their events into their logs", "err", err)
		}
		return
	}
	for _, env := range envs {
		if err := e.sync(ctx, env); err != nil && ctx.Err() == nil {
			e.logger.Warn("copy events into the log", "env", env.Ref(), "err", err)
		}
	}
}

// sync copies the events of env after its log's cursor.
func (e *Events) sync(ctx context.Context, env *jack.Environment) error {
	l, err := e.logs.Env(env.App, env.Name)
	if err != nil {
		return err
	}
	after := l.Cursor(eventsSource).Pos
	for {
		limit := 500
		if after == 0 {
			limit = 0 // with no cursor, ListEvents counts from the end: take them all
		}
		events, err := e.store.ListEvents(ctx, env.ID, after, limit)
		if err != nil || len(events) == 0 {
			return err
		}
		recs := make([]record, len(events))
		for i, ev := range events {
			recs[i] = record{
				Time: ev.Time.UnixNano(), Stream: jack.StreamEvent, Source: eventsSource, Pos: ev.ID,
				Process: jack.ProcessJack, Instance: ev.Kind, Line: []byte(ev.Message),
			}
			after = ev.ID
		}
		if err := l.append(recs); err != nil {
			return err
		}
		if limit == 0 {
			return nil
		}
	}
}
