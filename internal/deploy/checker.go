package deploy

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	jack "github.com/jack-paas/jack"
)

// Continuous health checks. A deployment probes an instance until it is
// healthy; from then on the checker probes every running instance of a
// process with an HTTP health check, at the process's interval. After
// checkFailures failures in a row a web instance leaves the rotation and is
// "unhealthy"; the first check it passes puts it back.

// checkTick is how often the checker looks for instances whose next check
// is due.
const checkTick = 250 * time.Millisecond

// defaultCheckFailures is how many failed checks in a row make an instance
// unhealthy, as Docker's HEALTHCHECK retries.
const defaultCheckFailures = 3

// restartWindow is how far back RecentRestarts counts.
const restartWindow = 10 * time.Minute

// checkerConfig holds the orchestrator's settings from Config that the
// checker and the deployment notices use.
type checkerConfig struct {
	failures     int
	onDeployment func(jack.DeployNotice)
}

// checkState is what the checker keeps of one instance, inside instance.
// Guarded by Orchestrator.mu.
type checkState struct {
	nextCheck time.Time
	checking  bool
	failures  int // in a row
	latency   time.Duration
}

// deaths is the record of an environment's instance deaths per slot name,
// for restart counts. Guarded by Orchestrator.mu.
type deaths struct {
	total  int
	recent []time.Time
	last   string // why the last one died
}

// recordDeath notes that an instance of a slot died, and why, and returns
// the slot's record for the store (saveDeaths). The caller holds o.mu.
func (o *Orchestrator) recordDeath(st *envState, name, why string) jack.SlotDeaths {
	if st.deaths == nil {
		st.deaths = map[string]*deaths{}
	}
	d := st.deaths[name]
	if d == nil {
		d = &deaths{}
		st.deaths[name] = d
	}
	now := o.now()
	d.total++
	d.recent = append(recentOnly(d.recent, now), now)
	d.last = why
	return jack.SlotDeaths{Name: name, Total: d.total, Recent: slices.Clone(d.recent), LastExit: d.last}
}

// saveDeaths stores a slot's record, so that its restart counts survive a
// restart of the daemon. A failure costs only the counts: it is logged.
func (o *Orchestrator) saveDeaths(envID int64, d jack.SlotDeaths) {
	if err := o.store.SaveSlotDeaths(o.ctx, envID, d); err != nil && o.ctx.Err() == nil {
		o.logger.Warn("could not store an instance's death", "env", envID, "instance", d.Name, "err", err)
	}
}

// loadDeaths takes the slots' records a previous run of the daemon stored.
func (o *Orchestrator) loadDeaths(ctx context.Context) error {
	envs, err := o.store.ListEnvs(ctx, "")
	if err != nil {
		return err
	}
	for _, env := range envs {
		records, err := o.store.ListSlotDeaths(ctx, env.ID)
		if err != nil {
			return err
		}
		if len(records) == 0 {
			continue
		}
		o.mu.Lock()
		st := o.state(env.ID)
		if st.deaths == nil {
			st.deaths = map[string]*deaths{}
		}
		for _, r := range records {
			st.deaths[r.Name] = &deaths{total: r.Total, recent: r.Recent, last: r.LastExit}
		}
		o.mu.Unlock()
	}
	return nil
}

// recentOnly drops the times older than restartWindow.
func recentOnly(ts []time.Time, now time.Time) []time.Time {
	i := 0
	for i < len(ts) && now.Sub(ts[i]) > restartWindow {
		i++
	}
	return ts[i:]
}

// fillRestarts sets the restart counts of an instance's view. The caller
// holds o.mu.
func (o *Orchestrator) fillRestarts(st *envState, v *jack.Instance) {
	if d := st.deaths[v.Name]; d != nil {
		d.recent = recentOnly(d.recent, o.now())
		v.RestartsTotal, v.RecentRestarts, v.LastExit = d.total, len(d.recent), d.last
	}
}

// checkTarget is one instance whose check is due, with what it is checked
// against.
type checkTarget struct {
	envID int64
	st    *envState
	in    *instance
}

// checkLoop runs the continuous health checks until Close.
func (o *Orchestrator) checkLoop() {
	defer o.wg.Done()
	procs := &processCache{o: o}
	tick := time.NewTicker(checkTick)
	defer tick.Stop()
	var running sync.WaitGroup
	defer running.Wait()
	for {
		select {
		case <-o.ctx.Done():
			return
		case <-tick.C:
		}
		for _, tg := range o.dueChecks() {
			running.Add(1)
			go func() {
				defer running.Done()
				o.check(procs, tg)
			}()
		}
	}
}

// dueChecks returns the instances whose next check is due, marking them as
// being checked.
func (o *Orchestrator) dueChecks() []checkTarget {
	now := o.now()
	o.mu.Lock()
	defer o.mu.Unlock()
	var out []checkTarget
	for envID, st := range o.envs {
		for _, in := range st.instances {
			if in.stopping || in.check.checking || now.Before(in.check.nextCheck) {
				continue
			}
			if in.state != jack.InstanceHealthy && in.state != jack.InstanceUnhealthy {
				continue // starting: its deployment or heal probes it
			}
			select {
			case <-in.dead:
				continue
			default:
			}
			in.check.checking = true
			out = append(out, checkTarget{envID: envID, st: st, in: in})
		}
	}
	return out
}

// check probes one instance and acts on the outcome.
func (o *Orchestrator) check(procs *processCache, tg checkTarget) {
	in := tg.in
	env, proc := procs.lookup(o.ctx, tg.envID, in.c)
	if proc == nil || !proc.HTTPChecked(in.c.Process) || proc.Health == nil {
		// Nothing to probe (a worker), or its release is gone: look again
		// in a while.
		o.mu.Lock()
		in.check.checking = false
		in.check.nextCheck = o.now().Add(10 * time.Second)
		o.mu.Unlock()
		return
	}
	began := time.Now()
	err := probe(o.ctx, in.c.Address, proc.Health)
	latency := time.Since(began)
	if o.ctx.Err() != nil {
		return
	}
	threshold := o.checker.failures
	o.mu.Lock()
	in.check.checking = false
	in.check.nextCheck = o.now().Add(proc.Health.Interval.D())
	in.check.latency = latency
	in.lastCheck = o.now()
	in.lastErr = errText(err)
	if err != nil {
		in.check.failures++
	} else {
		in.check.failures = 0
	}
	goOut := err != nil && in.state == jack.InstanceHealthy && in.check.failures >= threshold
	comeBack := err == nil && in.state == jack.InstanceUnhealthy
	failures := in.check.failures
	o.mu.Unlock()
	if !goOut && !comeBack {
		return
	}
	o.turn(tg, env, proc, goOut, failures, err)
}

// turn moves an instance out of rotation or back into it. It does not wait
// for the environment's lock: a deployment may hold it for minutes, and a
// failing instance must leave at once. Route tables are built from the
// instances' state under o.mu, so a deployment switching at the same time
// publishes a table that already has the change.
func (o *Orchestrator) turn(tg checkTarget, env *jack.Environment, proc *jack.Process, out bool, failures int, err error) {
	in := tg.in
	o.mu.Lock()
	if in.stopping || tg.st.instances[in.c.ID] != in {
		o.mu.Unlock()
		return
	}
	wasRouted := in.routed
	if out {
		in.state = jack.InstanceUnhealthy
		in.routed = false
		// It was healthy, so its deployment is done with it: a death from
		// now on is a crash to heal, not a failure of that deployment.
		in.deploy = 0
	} else {
		in.state = jack.InstanceHealthy
		in.routed = env != nil && env.Tier == jack.TierWeb && proc.Routed(in.c.Process)
	}
	changed := wasRouted != in.routed
	o.mu.Unlock()
	if changed {
		if perr := o.publish(o.ctx); perr != nil {
			o.logger.Error("publish routes after a health check", "err", perr)
		}
	}
	name := in.c.Name()
	if out {
		where := ""
		if wasRouted {
			where = "; out of rotation"
		}
		o.event(tg.envID, "health", "%s failed %d health checks in a row (%v)%s", name, failures, err, where)
		o.logger.Warn("instance unhealthy", "env", tg.envID, "instance", name, "err", err)
		return
	}
	where := ""
	if in.routed {
		where = "; back in rotation"
	}
	o.event(tg.envID, "health", "%s passes its health check again%s", name, where)
}

// processCache finds the environment and manifest entry of instances,
// asking the store once per release.
type processCache struct {
	o  *Orchestrator
	mu sync.Mutex
	m  map[string]cachedProcess
}

type cachedProcess struct {
	env  *jack.Environment
	proc *jack.Process
	at   time.Time
}

// lookup returns the environment and process an instance runs; nil
// process when its release is gone.
func (c *processCache) lookup(ctx context.Context, envID int64, ct *jack.Container) (*jack.Environment, *jack.Process) {
	key := fmt.Sprintf("%d/%d/%s", envID, ct.Release, ct.Process)
	c.mu.Lock()
	if c.m == nil {
		c.m = map[string]cachedProcess{}
	}
	hit, ok := c.m[key]
	c.mu.Unlock()
	if ok && time.Since(hit.at) < time.Minute {
		return hit.env, hit.proc
	}
	env, err := c.o.store.FindEnv(ctx, ct.App, ct.Env)
	if err != nil {
		return nil, nil
	}
	proc := c.o.processOf(ctx, env, ct)
	c.mu.Lock()
	if len(c.m) > 1000 {
		clear(c.m) // releases long gone
	}
	c.m[key] = cachedProcess{env: env, proc: proc, at: time.Now()}
	c.mu.Unlock()
	return env, proc
}

// healDiff is diff for a heal: an instance that the continuous checks find
// failing keeps its slot rather than being replaced, since it runs the
// release and the checker puts it back in rotation once it passes again. A
// new deployment still replaces it.
func (o *Orchestrator) healDiff(st *envState, pl *plan) *change {
	ch := o.diff(st, pl, false)
	o.mu.Lock()
	defer o.mu.Unlock()
	used := map[int]bool{}
	for _, in := range ch.keep {
		used[in.c.Slot] = true
	}
	var old []*instance
	for _, in := range ch.old {
		if in.state == jack.InstanceUnhealthy && in.check.failures > 0 && in.c.Spec == pl.spec.Spec &&
			len(ch.keep) < pl.count && !used[in.c.Slot] {
			ch.keep = append(ch.keep, in)
			used[in.c.Slot] = true
			continue
		}
		old = append(old, in)
	}
	ch.old = old
	ch.slots = nil
	for slot := 1; len(ch.keep)+len(ch.slots) < pl.count; slot++ {
		if !used[slot] {
			ch.slots = append(ch.slots, slot)
		}
	}
	return ch
}
