package logs

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	jack "github.com/jack-paas/jack"
	"github.com/jack-paas/jack/internal/logs/drain"
)

// DrainStore is what Drains keeps and reads in Jack's store.
type DrainStore interface {
	jack.LogStore
	jack.EnvStore
	jack.EventStore
}

// Defaults of Drains.
const (
	// DefaultDrainQueue bounds how far a drain may fall behind, in bytes
	// of records, before its oldest lines are dropped.
	DefaultDrainQueue = 100 << 20
	drainBatchRecords = 1000
	drainBatchBytes   = 1 << 20
	drainSaveInterval = 200 * time.Millisecond
)

// Drains forwards environments' logs to their drains. Each drain has its
// own runner and its own queue: the records of the log between the
// drain's cursor (kept on disk) and the end. So a slow or dead drain delays
// neither collection nor the other drains; it loses nothing while its
// queue is under QueueBytes, and past that drops its oldest records and
// says how many in an event.
type Drains struct {
	logs   *Store
	store  DrainStore
	logger *slog.Logger

	// Options are given to each drain's sender.
	Options drain.Options
	// QueueBytes is each drain's queue limit; default DefaultDrainQueue.
	QueueBytes int64
	// RetryMin and RetryMax bound the back-off between attempts to
	// deliver a batch; default 500ms and 30s.
	RetryMin, RetryMax time.Duration
	// ResyncInterval is how often the stored drains are compared with the
	// running ones (a deleted environment takes its drains along);
	// default 30s.
	ResyncInterval time.Duration
	// OnEvent is called after the drains store an event of an
	// environment (Events.Changed).
	OnEvent func(envID int64)

	mu      sync.Mutex
	runners map[int64]*drainRunner
	ctx     context.Context
	cancel  context.CancelFunc
	wg      sync.WaitGroup
}

// NewDrains returns the drains of store's environments over logs; Start
// starts them.
func NewDrains(logs *Store, store DrainStore, logger *slog.Logger) *Drains {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	ctx, cancel := context.WithCancel(context.Background())
	return &Drains{
		logs: logs, store: store, logger: logger,
		QueueBytes: DefaultDrainQueue, RetryMin: 500 * time.Millisecond, RetryMax: 30 * time.Second,
		ResyncInterval: 30 * time.Second,
		runners:        map[int64]*drainRunner{}, ctx: ctx, cancel: cancel,
	}
}

// Start starts a runner for each stored drain, and keeps them in step
// with the store.
func (d *Drains) Start(ctx context.Context) error {
	if err := d.resync(ctx); err != nil {
		return fmt.Errorf("start drains: %w", err)
	}
	d.wg.Add(1)
	go func() {
		defer d.wg.Done()
		tick := time.NewTicker(d.ResyncInterval)
		defer tick.Stop()
		for {
			select {
			case <-d.ctx.Done():
				return
			case <-tick.C:
				if err := d.resync(d.ctx); err != nil && d.ctx.Err() == nil {
					d.logger.Warn("list drains", "err", err)
				}
			}
		}
	}()
	return nil
}

// resync starts the stored drains that have no runner and stops the
// runners of drains no longer stored.
func (d *Drains) resync(ctx context.Context) error {
	drains, err := d.store.ListDrains(ctx, 0)
	if err != nil {
		return err
	}
	envs, err := d.store.ListEnvs(ctx, "")
	if err != nil {
		return err
	}
	byID := map[int64]*jack.Environment{}
	for _, e := range envs {
		byID[e.ID] = e
	}
	stored := map[int64]bool{}
	for _, dr := range drains {
		stored[dr.ID] = true
		if env := byID[dr.EnvID]; env != nil {
			if _, err := d.start(env, dr, false); err != nil {
				d.logger.Error("start drain", "env", env.Ref(), "drain", drain.Redact(dr.URL), "err", err)
			}
		}
	}
	d.mu.Lock()
	var gone []*drainRunner
	for id, r := range d.runners {
		if !stored[id] {
			gone = append(gone, r)
			delete(d.runners, id)
		}
	}
	d.mu.Unlock()
	for _, r := range gone {
		r.stop(true)
	}
	return nil
}

// start starts the runner of a drain unless it runs; atEnd starts a new
// drain at the end of the log, so that it gets what comes next.
func (d *Drains) start(env *jack.Environment, dr *jack.LogDrain, atEnd bool) (*drainRunner, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if r := d.runners[dr.ID]; r != nil {
		return r, nil
	}
	if d.ctx.Err() != nil {
		return nil, fmt.Errorf("drains stopped")
	}
	l, err := d.logs.Env(env.App, env.Name)
	if err != nil {
		return nil, err
	}
	sender, err := drain.New(dr.URL, d.Options)
	if err != nil {
		return nil, err
	}
	r := newDrainRunner(d, env, dr, l, sender, atEnd)
	d.runners[dr.ID] = r
	ctx, cancel := context.WithCancel(d.ctx)
	r.cancel = cancel
	d.wg.Add(1)
	go func() {
		defer d.wg.Done()
		defer close(r.done)
		r.run(ctx)
	}()
	return r, nil
}

// Add checks a drain URL (EINVALID if it is not usable or its TLS
// certificate does not verify), stores the drain and starts forwarding the
// environment's new records to it.
func (d *Drains) Add(ctx context.Context, env *jack.Environment, raw string) (*jack.DrainStatus, error) {
	u, err := drain.Parse(raw)
	if err != nil {
		return nil, err
	}
	if err := drain.Check(ctx, u.String(), d.Options); err != nil {
		return nil, err
	}
	dr := &jack.LogDrain{EnvID: env.ID, URL: u.String()}
	if err := d.store.AddDrain(ctx, dr); err != nil {
		return nil, err
	}
	r, err := d.start(env, dr, true)
	if err != nil {
		return nil, err
	}
	return r.status(), nil
}

// Remove stops and removes an environment's drain, named by its URL (as
// given, or as listed with its password hidden).
func (d *Drains) Remove(ctx context.Context, env *jack.Environment, raw string) error {
	url := raw
	if u, err := drain.Parse(raw); err == nil {
		url = u.String()
	}
	drains, err := d.store.ListDrains(ctx, env.ID)
	if err != nil {
		return err
	}
	for _, dr := range drains {
		if dr.URL != url && drain.Redact(dr.URL) == raw {
			url = dr.URL
		}
	}
	dr, err := d.store.DeleteDrain(ctx, env.ID, url)
	if err != nil {
		return err
	}
	d.mu.Lock()
	r := d.runners[dr.ID]
	delete(d.runners, dr.ID)
	d.mu.Unlock()
	if r != nil {
		r.stop(true)
	}
	return nil
}

// List returns the drains of an environment and how each is doing.
func (d *Drains) List(ctx context.Context, env *jack.Environment) ([]*jack.DrainStatus, error) {
	drains, err := d.store.ListDrains(ctx, env.ID)
	if err != nil {
		return nil, err
	}
	out := make([]*jack.DrainStatus, 0, len(drains))
	for _, dr := range drains {
		d.mu.Lock()
		r := d.runners[dr.ID]
		d.mu.Unlock()
		if r != nil {
			out = append(out, r.status())
			continue
		}
		st := &jack.DrainStatus{LogDrain: *dr}
		st.URL = drain.Redact(st.URL)
		out = append(out, st)
	}
	return out, nil
}

// Close stops every runner, saving its cursor.
func (d *Drains) Close() error {
	d.cancel()
	d.wg.Wait()
	return nil
}

// event stores an event of a drain's environment.
func (d *Drains) event(envID int64, format string, args ...any) {
	e := &jack.Event{EnvID: envID, Time: time.Now(), Kind: "drain", Message: fmt.Sprintf(format, args...)}
	if err := d.store.AddEvent(context.WithoutCancel(d.ctx), e); err != nil {
		d.logger.Error("store drain event", "err", err)
		return
	}
	if d.OnEvent != nil {
		d.OnEvent(envID)
	}
}
