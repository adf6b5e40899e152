// Package cron is the daemon's scheduler of the manifests' cron jobs. Once
// a second it looks at each deployed environment's cron jobs and, for each
// job whose schedule has a tick newer than the last one it ran, asks the
// orchestrator to run that tick. The orchestrator records the tick before
// the container starts, and a tick can be recorded once, so every tick runs
// at most once, across restarts of the daemon too; a tick missed while the
// daemon was down runs when it starts again (only the newest one).
package cron

import (
	"context"
	"log/slog"
	"strconv"
	"sync"
	"time"

	jack "github.com/jack-paas/jack"
)

// Runner starts the run of one tick of a job; started is false when the
// tick was recorded already.
type Runner interface {
	StartCronTick(ctx context.Context, env *jack.Environment, rel *jack.Release, v *jack.Version, job *jack.CronJob, tick time.Time) (started bool, err error)
}

// Scheduler fires cron ticks. Start it with Run.
type Scheduler struct {
	store  jack.Store
	runner Runner
	logger *slog.Logger
	// Now returns the time; tests may set it before Run.
	Now func() time.Time
	// Interval is how often jobs are looked at; default 1s.
	Interval time.Duration

	mu   sync.Mutex
	last map[string]time.Time // newest tick handled, by env ID and job
}

// New returns a scheduler of the environments in store.
func New(store jack.Store, runner Runner, logger *slog.Logger) *Scheduler {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &Scheduler{store: store, runner: runner, logger: logger, Now: time.Now, Interval: time.Second, last: map[string]time.Time{}}
}

// Run fires ticks until ctx ends.
func (s *Scheduler) Run(ctx context.Context) {
	t := time.NewTicker(s.Interval)
	defer t.Stop()
	for {
		s.Pass(ctx)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// Pass looks at every job once and fires the ticks that are due.
func (s *Scheduler) Pass(ctx context.Context) {
	envs, err := s.store.ListEnvs(ctx, "")
	if err != nil {
		if ctx.Err() == nil {
			s.logger.Error("cron: list environments", "err", err)
		}
		return
	}
	now := s.Now()
	for _, env := range envs {
		if env.Release == 0 {
			continue
		}
		if err := s.env(ctx, env, now); err != nil && ctx.Err() == nil {
			s.logger.Error("cron", "env", env.Ref(), "err", err)
		}
	}
}

// env fires the due ticks of one environment's jobs.
func (s *Scheduler) env(ctx context.Context, env *jack.Environment, now time.Time) error {
	rel, err := s.store.FindRelease(ctx, env.ID, env.Release)
	if err != nil {
		return err
	}
	v, err := s.store.FindVersionByID(ctx, rel.VersionID)
	if err != nil {
		return err
	}
	for _, job := range v.Manifest.Cron {
		sched, err := job.ParsedSchedule()
		if err != nil {
			continue // refused when the version was made; never here
		}
		after, seen, err := s.lastTick(ctx, env, rel, job.Name)
		if err != nil {
			return err
		}
		for _, tick := range dueTicks(sched, after, now, seen) {
			started, err := s.runner.StartCronTick(ctx, env, rel, v, job, tick.UTC())
			if err != nil {
				s.logger.Error("cron: start job", "env", env.Ref(), "job", job.Name, "err", err)
				break
			}
			s.setLast(env.ID, job.Name, tick)
			if started {
				s.logger.Info("cron job started", "env", env.Ref(), "job", job.Name, "tick", tick.UTC())
			}
		}
	}
	return nil
}

// maxCatchUp bounds how many ticks one pass fires when passes fell behind
// (a slow store, a busy machine).
const maxCatchUp = 10

// dueTicks returns the ticks after after and not after now, oldest first.
// When the scheduler has been running (seen), it fires every one of them,
// up to maxCatchUp; after a start it fires only the newest, so that a
// daemon that was down for a day does not run a job a thousand times.
func dueTicks(sched jack.Schedule, after, now time.Time, seen bool) []time.Time {
	newest := sched.Prev(now)
	if newest.IsZero() || !newest.After(after) {
		return nil
	}
	if !seen {
		return []time.Time{newest}
	}
	var ticks []time.Time
	for t := sched.Next(after); !t.IsZero() && !t.After(newest); t = sched.Next(t) {
		ticks = append(ticks, t)
		if len(ticks) > maxCatchUp {
			return []time.Time{newest}
		}
	}
	return ticks
}

// lastTick returns the newest tick of a job already handled: from memory
// (seen is then true), else the store, else the moment the environment's
// release was made, so that a new job does not run for a tick that came
// before it existed.
func (s *Scheduler) lastTick(ctx context.Context, env *jack.Environment, rel *jack.Release, job string) (t time.Time, seen bool, err error) {
	key := key(env.ID, job)
	s.mu.Lock()
	t, ok := s.last[key]
	s.mu.Unlock()
	if ok {
		return t, true, nil
	}
	if t, err = s.store.LastCronTick(ctx, env.ID, job); err != nil {
		return time.Time{}, false, err
	}
	if t.IsZero() {
		t = rel.CreatedAt
	}
	s.setLast(env.ID, job, t)
	return t, false, nil
}

func (s *Scheduler) setLast(envID int64, job string, t time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if t.After(s.last[key(envID, job)]) {
		s.last[key(envID, job)] = t
	}
}

func key(envID int64, job string) string {
	return strconv.FormatInt(envID, 10) + "/" + job
}
