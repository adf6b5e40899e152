package deploy

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	jack "github.com/jack-paas/jack"
)

// Cron runs the cron jobs of environments' current releases: at the ticks
// of their schedules (for internal/cron's scheduler), and now, on request.
// It lists them with their next and last runs.
type Cron struct {
	*shared
	mu sync.Mutex
	// running counts the runs going of each cron job, by cronKey.
	running map[string]int
}

// cronKey names a cron job of an environment, for the no-overlap rule.
func cronKey(envID int64, job string) string { return fmt.Sprintf("%d/%s", envID, job) }

// track counts a run of a cron job as going until done is called.
func (c *Cron) track(key string) (done func()) {
	c.mu.Lock()
	c.running[key]++
	c.mu.Unlock()
	return func() {
		c.mu.Lock()
		c.running[key]--
		c.mu.Unlock()
	}
}

// StartCronTick runs a cron job for one tick of its schedule: the tick is
// recorded first, so that it runs at most once even across restarts (false
// when it was recorded already); then the job's container runs in the
// background. A tick that comes while the previous run still goes is
// recorded as skipped, with an event, unless the job allows overlap.
func (c *Cron) StartCronTick(ctx context.Context, env *jack.Environment, rel *jack.Release, v *jack.Version, job *jack.CronJob, tick time.Time) (bool, error) {
	key := cronKey(env.ID, job.Name)
	c.mu.Lock()
	busy := c.running[key] > 0 && !job.Overlap
	c.mu.Unlock()
	run := &jack.Run{
		EnvID: env.ID, Kind: jack.KindCron, Job: job.Name, Command: job.Command, Release: rel.Number,
		State: jack.RunRunning, Tick: &tick, CreatedAt: c.now(),
	}
	if busy {
		now := c.now()
		run.State, run.Reason, run.FinishedAt = jack.RunSkipped, "the previous run was still going", &now
	}
	if err := c.store.CreateRun(ctx, run); jack.ErrorCode(err) == jack.ECONFLICT {
		return false, nil
	} else if err != nil {
		return false, fmt.Errorf("record tick of cron job %s: %w", job.Name, err)
	}
	if busy {
		c.event(env.ID, "cron", "Cron job %s skipped its run of %s: the previous run is still going", job.Name, tick.UTC().Format(time.RFC3339))
		return true, nil
	}
	done := c.track(key)
	go func() {
		defer done()
		c.runCron(context.WithoutCancel(ctx), env, rel, v, job, run)
	}()
	return true, nil
}

// RunCron runs a cron job of the environment's current release now, and
// returns its run once it has ended.
func (c *Cron) RunCron(ctx context.Context, app, envName, name string) (*jack.Run, error) {
	env, rel, v, err := c.serving(ctx, app, envName)
	if err != nil {
		return nil, err
	}
	job := findJob(v, name)
	if job == nil {
		return nil, jack.Errorf(jack.ENOTFOUND, "%s has no cron job %s (%s); see `jack cron %s`", env.Ref(), name, jobNames(v), env.Ref())
	}
	run := &jack.Run{
		EnvID: env.ID, Kind: jack.KindCron, Job: job.Name, Command: job.Command, Release: rel.Number,
		State: jack.RunRunning, CreatedAt: c.now(),
	}
	if err := c.store.CreateRun(ctx, run); err != nil {
		return nil, fmt.Errorf("store run: %w", err)
	}
	defer c.track(cronKey(env.ID, job.Name))()
	c.runCron(ctx, env, rel, v, job, run)
	return run, nil
}

// runCron runs a stored cron run's container to its end, within the job's
// timeout, keeping its output.
func (c *Cron) runCron(ctx context.Context, env *jack.Environment, rel *jack.Release, v *jack.Version, job *jack.CronJob, run *jack.Run) {
	tail := &tailWriter{max: runOutputLines}
	runtime, err := c.oneOffRuntime()
	if err != nil {
		c.endRun(run, jack.OneOffResult{}, err, tail, "")
		return
	}
	if job.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, job.Timeout.D())
		defer cancel()
	}
	process, proc := resourcesOf(v, "")
	spec := c.oneOffSpec(env, rel, v, process, proc, jack.KindCron, "cron:"+job.Name, job.Command)
	res, err := runtime.RunOneOff(ctx, spec, jack.OneOffIO{Stdout: tail, Stderr: tail})
	reason := ""
	if res.Stopped && job.Timeout > 0 && ctx.Err() == context.DeadlineExceeded {
		reason = fmt.Sprintf("timed out after %s", job.Timeout.D())
	}
	c.endRun(run, res, err, tail, reason)
}

// CronJobs returns the cron jobs of the environment's current release,
// with their next tick and last run.
func (c *Cron) CronJobs(ctx context.Context, app, envName string) ([]*jack.CronStatus, error) {
	env, err := c.store.FindEnv(ctx, app, envName)
	if err != nil {
		return nil, err
	}
	if env.Release == 0 {
		return []*jack.CronStatus{}, nil
	}
	_, v, err := c.current(ctx, env)
	if err != nil {
		return nil, err
	}
	out := []*jack.CronStatus{}
	for _, job := range v.Manifest.Cron {
		st := &jack.CronStatus{CronJob: job}
		if s, err := job.ParsedSchedule(); err == nil {
			st.Next = s.Next(c.now()).UTC()
		}
		runs, err := c.store.ListRuns(ctx, env.ID, jack.KindCron, job.Name, 1)
		if err != nil {
			return nil, err
		}
		if len(runs) > 0 {
			st.LastRun = runs[0]
		}
		out = append(out, st)
	}
	return out, nil
}

func findJob(v *jack.Version, name string) *jack.CronJob {
	for _, j := range v.Manifest.Cron {
		if j.Name == name {
			return j
		}
	}
	return nil
}

func jobNames(v *jack.Version) string {
	if len(v.Manifest.Cron) == 0 {
		return "its manifest has none"
	}
	var names []string
	for _, j := range v.Manifest.Cron {
		names = append(names, j.Name)
	}
	return "it has " + strings.Join(names, ", ")
}
