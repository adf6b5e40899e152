package deploy

import (
	"context"
	"fmt"
	"sort"
	"sync"
	"time"

	jack "github.com/jack-paas/jack"
)

// replaceOpts say how instances are replaced: by which strategy, in
// batches of how many, drained for how long, and whether healthy ones go
// too (a restart).
type replaceOpts struct {
	strategy       string
	batch          int
	drain          time.Duration
	restart        bool
	restartProcess string
}

// instanceError is a rollout failure caused by one instance, whose output
// explains it.
type instanceError struct {
	in  *instance
	err error
}

func (e *instanceError) Error() string { return e.err.Error() }
func (e *instanceError) Unwrap() error { return e.err }

// change is what a rollout does to one process: which instances stay,
// which go, and the slots new ones take.
type change struct {
	plan  *plan
	keep  []*instance
	old   []*instance
	slots []int // for new instances, len = how many to start
}

// diff compares a process's instances with what the plan asks for. An
// instance stays when it runs the same spec, is healthy, and is not being
// restarted; everything else is replaced.
func (o *Orchestrator) diff(st *envState, pl *plan, replace bool) *change {
	o.mu.Lock()
	defer o.mu.Unlock()
	ch := &change{plan: pl}
	used := map[int]bool{}
	for _, in := range st.byProcess(pl.process) {
		if !replace && in.c.Spec == pl.spec.Spec && in.state == jack.InstanceHealthy && len(ch.keep) < pl.count && !used[in.c.Slot] {
			ch.keep = append(ch.keep, in)
			used[in.c.Slot] = true
		} else {
			ch.old = append(ch.old, in)
		}
	}
	// Instances that carry no traffic go first; then by slot.
	sort.SliceStable(ch.old, func(a, b int) bool {
		ha, hb := ch.old[a].state == jack.InstanceHealthy, ch.old[b].state == jack.InstanceHealthy
		if ha != hb {
			return !ha
		}
		return ch.old[a].c.Slot < ch.old[b].c.Slot
	})
	for slot := 1; len(ch.keep)+len(ch.slots) < pl.count; slot++ {
		if !used[slot] {
			ch.slots = append(ch.slots, slot)
		}
	}
	return ch
}

// replaceInstances moves an environment's instances to a release, by the
// strategy opts name; instances it starts carry deployment.
func (o *Orchestrator) replaceInstances(ctx context.Context, st *envState, env *jack.Environment, rel *jack.Release, v *jack.Version, deployment int64, p *progress, opts replaceOpts) error {
	pls := plans(env, rel, v, o.owner)
	var changes []*change
	wanted := map[string]bool{}
	for _, pl := range pls {
		pl.spec.Deployment = deployment
		wanted[pl.process] = true
		replace := opts.restart && (opts.restartProcess == "" || opts.restartProcess == pl.process)
		changes = append(changes, o.diff(st, pl, replace))
	}
	switch opts.strategy {
	case jack.StrategyImmutable:
		if err := o.immutable(ctx, st, changes, p, opts); err != nil {
			return err
		}
	case jack.StrategyAllAtOnce:
		for _, ch := range changes {
			if err := o.allAtOnce(ctx, st, ch, p, opts); err != nil {
				return err
			}
		}
	default:
		for _, ch := range changes {
			if err := o.rolling(ctx, st, ch, p, opts); err != nil {
				return err
			}
		}
	}
	// Processes the new version no longer has.
	o.mu.Lock()
	var gone []*instance
	for _, in := range st.instances {
		if !wanted[in.c.Process] && !in.stopping {
			gone = append(gone, in)
		}
	}
	o.mu.Unlock()
	return o.retire(ctx, gone, opts.drain, p)
}

// rolling replaces a batch at a time: new instances start and pass their
// health check, then take the place of as many old ones in one switch, and
// only then are the old ones drained and stopped. Capacity never drops.
func (o *Orchestrator) rolling(ctx context.Context, st *envState, ch *change, p *progress, opts replaceOpts) error {
	batch := max(opts.batch, 1)
	total := len(ch.slots)
	if len(ch.old) == 0 {
		batch = max(total, 1) // nothing to replace: no capacity to keep, start them all
	}
	for started := 0; started < total; {
		k := min(batch, total-started)
		news, err := o.startBatch(ctx, st, ch.plan, ch.slots[started:started+k], started, total, p)
		if err != nil {
			return err
		}
		started += k
		out := take(&ch.old, k)
		if err := o.switchOver(ch.plan, news, out, p); err != nil {
			return err
		}
		if err := o.retire(ctx, out, opts.drain, p); err != nil {
			return err
		}
	}
	for len(ch.old) > 0 {
		out := take(&ch.old, batch)
		if err := o.switchOver(ch.plan, nil, out, p); err != nil {
			return err
		}
		if err := o.retire(ctx, out, opts.drain, p); err != nil {
			return err
		}
	}
	return nil
}

// immutable starts a full new set of every process, switches all of them
// in one route table, then retires the old sets.
func (o *Orchestrator) immutable(ctx context.Context, st *envState, changes []*change, p *progress, opts replaceOpts) error {
	type started struct {
		ch   *change
		news []*instance
	}
	var all []started
	errs := make(chan error, len(changes))
	var mu sync.Mutex
	var wg sync.WaitGroup
	for _, ch := range changes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			news, err := o.startBatch(ctx, st, ch.plan, ch.slots, 0, len(ch.slots), p)
			if err != nil {
				errs <- err
				return
			}
			mu.Lock()
			all = append(all, started{ch, news})
			mu.Unlock()
		}()
	}
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		return err
	}
	var add, remove []*instance
	for _, s := range all {
		if s.ch.plan.proc.Routed(s.ch.plan.process) {
			add = append(add, s.news...)
		}
		remove = append(remove, s.ch.old...)
	}
	if err := o.setRouted(o.ctx, add, remove); err != nil {
		return err
	}
	if len(add)+len(remove) > 0 {
		p.step("Switched: %d instances in, %d out", len(add), len(remove))
	}
	return o.retire(ctx, remove, opts.drain, p)
}

// allAtOnce stops the old set, then starts the new one: the environment
// serves nothing in between.
func (o *Orchestrator) allAtOnce(ctx context.Context, st *envState, ch *change, p *progress, opts replaceOpts) error {
	out := ch.old
	ch.old = nil
	if err := o.switchOver(ch.plan, nil, out, p); err != nil {
		return err
	}
	if err := o.retire(ctx, out, opts.drain, p); err != nil {
		return err
	}
	news, err := o.startBatch(ctx, st, ch.plan, ch.slots, 0, len(ch.slots), p)
	if err != nil {
		return err
	}
	return o.switchOver(ch.plan, news, nil, p)
}

// switchOver puts new instances in rotation and takes old ones out, in one
// route table.
func (o *Orchestrator) switchOver(pl *plan, news, out []*instance, p *progress) error {
	if !pl.proc.Routed(pl.process) {
		news = nil
	}
	if len(news) == 0 && len(out) == 0 {
		return nil
	}
	if err := o.setRouted(o.ctx, news, out); err != nil {
		return err
	}
	if len(news) > 0 {
		p.step("Switched %s: %s in%s", pl.process, names(news), outText(out))
	}
	return nil
}

func outText(out []*instance) string {
	if len(out) == 0 {
		return ""
	}
	return ", " + names(out) + " out"
}

func names(ins []*instance) string {
	s := ""
	for i, in := range ins {
		if i > 0 {
			s += ", "
		}
		s += fmt.Sprintf("%s (r%d)", in.c.Name(), in.c.Release)
	}
	return s
}

// take removes and returns up to n instances from the front of list.
func take(list *[]*instance, n int) []*instance {
	n = min(n, len(*list))
	out := (*list)[:n:n]
	*list = (*list)[n:]
	return out
}

// startBatch starts an instance in each slot, in parallel, and returns them
// once all are healthy. On failure it returns the first error; instances it
// started stay registered so that undo finds and removes them.
func (o *Orchestrator) startBatch(ctx context.Context, st *envState, pl *plan, slots []int, done, total int, p *progress) ([]*instance, error) {
	news := make([]*instance, len(slots))
	errs := make([]error, len(slots))
	var wg sync.WaitGroup
	for i, slot := range slots {
		wg.Add(1)
		go func() {
			defer wg.Done()
			news[i], errs[i] = o.startOne(ctx, st, pl, slot, p, done+i+1, total)
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	return news, nil
}

// startOne starts one instance and waits until it is healthy.
func (o *Orchestrator) startOne(ctx context.Context, st *envState, pl *plan, slot int, p *progress, n, total int) (*instance, error) {
	spec := pl.spec
	spec.Slot = slot
	began := time.Now()
	if p != nil {
		p.step("Starting %s (%d/%d)", spec.Name(), n, total)
	}
	c, err := o.runtime.Start(ctx, &spec)
	if jack.ErrorCode(err) == jack.ENOTFOUND && spec.ImageDigest != "" {
		// The engine lost the version's image (pruned): pull it again, by
		// its digest, so that it is the very same image.
		if _, perr := o.pull(ctx, spec.ImageDigest, p); perr == nil {
			c, err = o.runtime.Start(ctx, &spec)
		}
	}
	if err != nil {
		return nil, fmt.Errorf("start %s: %w", spec.Name(), asUserError(err))
	}
	in := newInstance(c, jack.InstanceStarting)
	in.deploy = spec.Deployment
	if !c.Running {
		in.markDead(c.ExitCode, c.OOMKilled) // it exited before Start returned
	}
	o.mu.Lock()
	st.instances[c.ID] = in
	o.mu.Unlock()
	if err := o.waitHealthy(ctx, in, pl.proc); err != nil {
		o.mu.Lock()
		in.state = jack.InstanceUnhealthy
		o.mu.Unlock()
		return nil, &instanceError{in: in, err: err}
	}
	o.mu.Lock()
	in.state = jack.InstanceHealthy
	o.mu.Unlock()
	if p != nil {
		p.step("%s healthy in %.2fs", spec.Name(), time.Since(began).Seconds())
	}
	return in, nil
}

// retire takes instances out of rotation, lets their in-flight requests
// finish (up to drain), then stops and removes them. It runs to the end even
// when ctx has ended: half-stopped instances help nobody.
func (o *Orchestrator) retire(ctx context.Context, ins []*instance, drain time.Duration, p *progress) error {
	if len(ins) == 0 {
		return nil
	}
	// Instances a switch already took out of the table still finish their
	// requests (and WebSockets) in the drain: every instance of a routed
	// process is drained, not only those routed now.
	var routed, drained []string
	o.mu.Lock()
	for _, in := range ins {
		in.stopping = true
		if in.routed {
			routed = append(routed, in.c.ID)
		}
		if in.routed || in.c.Process == jack.DefaultProcessName {
			drained = append(drained, in.c.ID)
		}
		in.state = jack.InstanceDraining
	}
	o.mu.Unlock()
	ctx = context.WithoutCancel(ctx)
	if len(routed) > 0 {
		if err := o.setRouted(ctx, nil, ins); err != nil {
			return err
		}
	}
	if len(drained) > 0 {
		if p != nil {
			p.step("Draining %s", names(ins))
		}
		res, err := o.router.Drain(ctx, drained, drain)
		if err != nil {
			o.logger.Warn("drain", "err", err)
		} else if res.Remaining > 0 && p != nil {
			p.step("Drain time (%s) over: %d requests cut short", drain, res.Remaining)
		}
	}
	var wg sync.WaitGroup
	errs := make([]error, len(ins))
	for i, in := range ins {
		wg.Add(1)
		go func() {
			defer wg.Done()
			o.mu.Lock()
			in.state = jack.InstanceStopping
			o.mu.Unlock()
			errs[i] = o.runtime.Stop(ctx, in.c.ID, stopTimeout(in))
			o.forget(in)
		}()
	}
	wg.Wait()
	if p != nil {
		p.step("Stopped %s", names(ins))
	}
	for _, err := range errs {
		if err != nil {
			return fmt.Errorf("stop instance: %w", err)
		}
	}
	return nil
}

// forget removes an instance from its environment's state.
func (o *Orchestrator) forget(in *instance) {
	o.mu.Lock()
	defer o.mu.Unlock()
	for _, st := range o.envs {
		delete(st.instances, in.c.ID)
	}
}

func stopTimeout(in *instance) time.Duration {
	if in.c.StopTimeout > 0 {
		return in.c.StopTimeout
	}
	return jack.DefaultStopTimeout
}
