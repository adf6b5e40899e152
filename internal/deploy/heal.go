package deploy

import (
	"context"
	"fmt"
	"time"

	jack "github.com/jack-paas/jack"
)

// healStartTimeout bounds how long a replacement may take to become healthy,
// so that a crash-looping instance never holds its environment for long.
const healStartTimeout = 2 * time.Minute

// upLongEnough is how long an instance must have run for its death to
// count as a fresh failure rather than the next in a crash loop.
const upLongEnough = time.Minute

// watch turns the engine's events into instance deaths and heal requests.
func (o *Orchestrator) watch(events <-chan jack.ContainerEvent) {
	defer o.wg.Done()
	for ev := range events {
		switch ev.Action {
		case "oom":
			o.mu.Lock()
			if in, _ := o.find(ev.ID); in != nil {
				in.oom = true
			}
			o.mu.Unlock()
		case "die":
			o.onDeath(ev.ID, ev.ExitCode)
		case "resync":
			o.requestHeal(0)
		}
	}
}

// find returns an instance and its environment's ID. The caller holds o.mu.
func (o *Orchestrator) find(id string) (*instance, int64) {
	for envID, st := range o.envs {
		if in := st.instances[id]; in != nil {
			return in, envID
		}
	}
	return nil, 0
}

// onDeath handles an instance that stopped running: out of rotation at
// once, an event that says why, and a replacement after its back-off.
func (o *Orchestrator) onDeath(id string, code int) {
	o.mu.Lock()
	in, envID := o.find(id)
	if in == nil {
		o.mu.Unlock()
		return
	}
	if in.state == jack.InstanceExited || !in.diedOnItsOwn() {
		// Counted already (syncWithRuntime found it first), stopped on
		// purpose, or dying under a deployment that handles it.
		in.markDead(code, in.oom)
		o.mu.Unlock()
		return
	}
	in.markDead(code, in.oom)
	wasRouted := in.routed
	in.routed = false
	in.state = jack.InstanceExited
	st := o.envs[envID]
	name := in.c.Name()
	b := st.restarts[name]
	if b == nil || o.now().Sub(in.c.StartedAt) > upLongEnough {
		b = &backoff{}
		st.restarts[name] = b
	}
	delay := b.next(o.now())
	if b.failures == 1 {
		delay = 0 // the first replacement is immediate
		b.notBefore = o.now()
	}
	why := deathReason(code, in.oom)
	record := o.recordDeath(st, name, why)
	o.mu.Unlock()
	o.saveDeaths(envID, record)
	if wasRouted {
		if err := o.publish(o.ctx); err != nil {
			o.logger.Error("publish routes", "err", err)
		}
	}
	o.event(envID, "instance", "%s %s; replacing it in %s (restart %d)", name, why, delay.Round(time.Millisecond), b.failures)
	o.logger.Warn("instance died", "instance", name, "env", envID, "code", code)
	o.requestHealAfter(envID, delay)
}

// diedOnItsOwn reports whether a dead instance's death counts as one: it
// was not stopped on purpose, nor dying under a deployment that handles it.
// The caller holds o.mu.
func (in *instance) diedOnItsOwn() bool {
	return !(in.stopping || in.state == jack.InstanceStarting || in.state == jack.InstanceUnhealthy && in.deploy != 0)
}

// deathReason says why an instance died, for events and `jack ps`.
func deathReason(code int, oom bool) string {
	if oom {
		return "was killed for using more memory than its limit"
	}
	return fmt.Sprintf("exited with code %d", code)
}

// requestHeal asks the heal loop to look at an environment (0: all).
func (o *Orchestrator) requestHeal(envID int64) {
	select {
	case o.healCh <- envID:
	default:
	}
}

func (o *Orchestrator) requestHealAfter(envID int64, d time.Duration) {
	if d <= 0 {
		o.requestHeal(envID)
		return
	}
	time.AfterFunc(d, func() { o.requestHeal(envID) })
}

// healLoop heals environments on request and, as a safety net, all of them
// every healInterval.
func (o *Orchestrator) healLoop() {
	defer o.wg.Done()
	tick := time.NewTicker(o.healInterval)
	defer tick.Stop()
	for {
		var envID int64
		select {
		case <-o.ctx.Done():
			return
		case <-tick.C:
			if time.Since(o.lastCollect) > time.Minute {
				o.lastCollect = time.Now()
				o.collectStatic(o.ctx, time.Hour)
			}
		case envID = <-o.healCh:
		}
		envs, err := o.store.ListEnvs(o.ctx, "")
		if err != nil {
			o.logger.Error("heal: list environments", "err", err)
			continue
		}
		for _, env := range envs {
			if envID != 0 && env.ID != envID {
				continue
			}
			st := o.lockedState(env.ID)
			if !st.tryLock() {
				continue // a deployment owns it; it will be looked at again
			}
			// A deployment may have ended between the listing and the lock:
			// heal toward the release it left, not the one listed before it
			// (which, for a first deployment, was none: the heal would have
			// retired the instances it had just started).
			fresh, err := o.store.FindEnv(o.ctx, env.App, env.Name)
			if err != nil || fresh.ID != env.ID {
				st.unlock()
				if err != nil && jack.ErrorCode(err) != jack.ENOTFOUND {
					o.logger.Error("heal: read environment", "env", env.Ref(), "err", err)
				}
				continue
			}
			env := fresh
			ctx, cancel := context.WithCancel(o.ctx)
			o.mu.Lock()
			st.cancelHeal = cancel
			o.mu.Unlock()
			o.wg.Add(1)
			go func() {
				defer o.wg.Done()
				defer func() {
					o.mu.Lock()
					st.cancelHeal = nil
					o.mu.Unlock()
					cancel()
					st.unlock()
				}()
				if err := o.heal(ctx, st, env); err != nil && ctx.Err() == nil {
					o.logger.Error("heal", "env", env.Ref(), "err", err)
				}
			}()
		}
	}
}

// heal brings an environment back to its release: dead instances are
// removed, missing ones started (each after its back-off), and instances
// that belong to no slot of the release retired once the release's own are
// all there. The caller holds the environment's lock.
func (o *Orchestrator) heal(ctx context.Context, st *envState, env *jack.Environment) error {
	if err := o.syncWithRuntime(ctx, st, env); err != nil {
		return err
	}
	if env.Release == 0 {
		return o.retire(ctx, o.live(st), jack.DefaultDrain, nil)
	}
	rel, v, err := o.current(ctx, env)
	if err != nil {
		return err
	}
	wanted := map[string]bool{}
	complete := true
	for _, pl := range plans(env, rel, v, o.owner) {
		wanted[pl.process] = true
		ch := o.healDiff(st, pl)
		for _, slot := range ch.slots {
			if !o.healSlot(ctx, st, env, pl, slot) {
				complete = false
			}
		}
		if complete && len(ch.old) > 0 {
			if err := o.setRouted(ctx, nil, ch.old); err != nil {
				return err
			}
			if err := o.retire(ctx, ch.old, v.Manifest.Deploy.Drain.D(), nil); err != nil {
				return err
			}
		}
	}
	var gone []*instance
	o.mu.Lock()
	for _, in := range st.instances {
		if !wanted[in.c.Process] && !in.stopping {
			gone = append(gone, in)
		}
	}
	o.mu.Unlock()
	return o.retire(ctx, gone, v.Manifest.Deploy.Drain.D(), nil)
}

// healSlot starts the instance of a slot that has none, unless its back-off
// has not run out. It reports whether the slot is filled.
func (o *Orchestrator) healSlot(ctx context.Context, st *envState, env *jack.Environment, pl *plan, slot int) bool {
	name := jack.InstanceName(pl.process, slot)
	o.mu.Lock()
	b := st.restarts[name]
	if b != nil && o.now().Before(b.notBefore) {
		wait := b.notBefore.Sub(o.now())
		o.mu.Unlock()
		o.requestHealAfter(env.ID, wait)
		return false
	}
	o.mu.Unlock()
	ctx, cancel := context.WithTimeout(ctx, healStartTimeout)
	defer cancel()
	in, err := o.startOne(ctx, st, pl, slot, nil, 0, 0)
	if err != nil {
		o.mu.Lock()
		if b == nil {
			b = &backoff{}
			st.restarts[name] = b
		}
		delay := b.next(o.now())
		o.mu.Unlock()
		if ie, ok := err.(*instanceError); ok {
			o.retire(context.WithoutCancel(ctx), []*instance{ie.in}, 0, nil)
		}
		o.event(env.ID, "instance", "%s could not be replaced: %s; next try in %s", name, err, delay)
		o.requestHealAfter(env.ID, delay)
		return false
	}
	if pl.proc.Routed(pl.process) && env.Tier == jack.TierWeb {
		if err := o.setRouted(ctx, []*instance{in}, nil); err != nil {
			o.logger.Error("route replacement", "err", err)
		}
	}
	o.event(env.ID, "instance", "%s started (release %d) and is healthy", name, pl.spec.Release)
	return true
}

// live returns the instances of an environment not already on their way out.
func (o *Orchestrator) live(st *envState) []*instance {
	o.mu.Lock()
	defer o.mu.Unlock()
	var out []*instance
	for _, in := range st.instances {
		if !in.stopping {
			out = append(out, in)
		}
	}
	return out
}

// syncWithRuntime compares what the orchestrator believes runs with what
// the engine says: instances that are gone or stopped are marked dead and
// removed; containers it does not know (left by a crash) are removed too.
func (o *Orchestrator) syncWithRuntime(ctx context.Context, st *envState, env *jack.Environment) error {
	cs, err := o.runtime.List(ctx, env.App, env.Name)
	if err != nil {
		return fmt.Errorf("list instances of %s: %w", env.Ref(), err)
	}
	seen := map[string]*jack.Container{}
	for _, c := range cs {
		seen[c.ID] = c
	}
	var dead []*instance
	var deaths []jack.SlotDeaths // found here, not told by the engine's events
	o.mu.Lock()
	for id, in := range st.instances {
		c := seen[id]
		if c == nil || !c.Running {
			code := 0
			if c != nil {
				code = c.ExitCode
			}
			oom := c != nil && c.OOMKilled
			in.markDead(code, oom)
			if in.state != jack.InstanceExited && in.diedOnItsOwn() {
				deaths = append(deaths, o.recordDeath(st, in.c.Name(), deathReason(code, oom)))
			}
			if !in.stopping {
				in.routed = false
				in.state = jack.InstanceExited
				dead = append(dead, in)
			}
		}
	}
	var strays []string
	for id := range seen {
		if st.instances[id] == nil {
			strays = append(strays, id)
		}
	}
	o.mu.Unlock()
	for _, d := range deaths {
		o.saveDeaths(env.ID, d)
		o.event(env.ID, "instance", "%s %s; replacing it", d.Name, d.LastExit)
	}
	if len(dead) > 0 {
		if err := o.publish(ctx); err != nil {
			return err
		}
	}
	for _, in := range dead {
		o.runtime.Stop(ctx, in.c.ID, 0)
		o.forget(in)
	}
	for _, id := range strays {
		o.logger.Info("removing container left behind", "env", env.Ref(), "container", jack.ShortID(id))
		if err := o.runtime.Stop(ctx, id, time.Second); err != nil {
			o.logger.Warn("remove stray container", "container", jack.ShortID(id), "err", err)
		}
	}
	return nil
}
