package deploy

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	jack "github.com/jack-paas/jack"
)

// rollout is one deployment on its way: it moves an environment, whose lock
// it holds, to a release, records each step, and undoes what it changed
// when it fails. begin makes it; run takes it to its end.
type rollout struct {
	o   *Orchestrator
	st  *envState
	env *jack.Environment // as it was when the deployment began, until it succeeds
	rel *jack.Release
	v   *jack.Version
	d   *jack.Deployment
	p   *progress
	// opts are the choices of the deployment beyond its release.
	opts runOpts
	// prepare, when set, makes rel and v first: the deployment began
	// before its release (see beginPrepared).
	prepare preparedFunc
}

// run rolls the release out and records how it ended; on failure it undoes
// what the deployment changed.
func (r *rollout) run() {
	if r.prepare != nil && !r.prepareRelease() {
		return
	}
	start := r.o.now()
	ctx, cancel := context.WithTimeout(r.o.ctx, r.timeout())
	defer cancel()
	strategy := firstOf(r.rel.Strategy, r.env.Strategy, r.v.Manifest.Deploy.Strategy)
	r.announce(strategy)
	err := r.apply(ctx, strategy)
	r.o.mu.Lock()
	now := r.o.now()
	r.d.FinishedAt = &now
	r.o.mu.Unlock()
	if err != nil {
		r.fail(err)
		return
	}
	r.succeed(now.Sub(start))
}

// prepareRelease makes the release of a deployment that began without one
// and records it with the deployment; false when that failed, which ends
// the deployment with nothing else changed.
func (r *rollout) prepareRelease() bool {
	rel, v, err := r.prepare(r.o.ctx, r.p)
	if err == nil && rel.ID == 0 {
		if err = r.o.store.CreateRelease(r.o.ctx, rel); err != nil {
			err = fmt.Errorf("create release: %w", err)
		}
	}
	if err != nil {
		reason := jack.ErrorMessage(asUserError(err))
		if r.o.ctx.Err() != nil {
			reason = "interrupted: jack server stopped during the deployment"
		} else {
			r.p.step("Failed: %s", reason)
		}
		r.finish(jack.DeploymentFailed, reason, nil)
		r.o.event(r.env.ID, "deploy", "Deployment %d failed: %s", r.d.ID, reason)
		r.notify(jack.HookDeployFailed, jack.DeploymentFailed, reason)
		return false
	}
	r.o.mu.Lock()
	r.rel, r.v = rel, v
	r.d.ReleaseID, r.d.ReleaseNumber = rel.ID, rel.Number
	r.o.mu.Unlock()
	r.p.save()
	return true
}

// timeout is how long the deployment may take: as asked, else the
// manifest's deploy.timeout.
func (r *rollout) timeout() time.Duration {
	if r.opts.timeout != 0 {
		return r.opts.timeout
	}
	return r.v.Manifest.Deploy.Timeout.D()
}

// announce records that the deployment started: its first step, an event
// and a notice.
func (r *rollout) announce(strategy string) {
	switch r.d.Kind {
	case jack.KindRestart:
		r.p.step("Restarting release %d (%s)", r.rel.Number, r.v.Label)
	default:
		r.p.step("Release %d: %s — %s (%s, image %s)", r.rel.Number, r.v.Label, r.rel.Description, strategy, jack.ShortID(r.v.ImageID))
	}
	r.o.event(r.env.ID, "deploy", "Deployment %d started: release %d, %s", r.d.ID, r.rel.Number, r.rel.Description)
	r.notify(jack.HookDeployStarted, jack.DeploymentRunning, "")
}

// apply runs the release command where the deployment calls for it, then
// replaces the instances, then stores the environment's new release. The
// release command runs before any new instance starts: when it fails,
// nothing else changes.
func (r *rollout) apply(ctx context.Context, strategy string) error {
	if err := r.o.ensureImage(ctx, r.v, r.p); err != nil {
		return err
	}
	runRelease, err := r.shouldRelease(ctx)
	if err != nil {
		return err
	}
	if runRelease {
		if err := r.release(ctx); err != nil {
			return err
		}
	}
	err = r.o.replaceInstances(ctx, r.st, r.env, r.rel, r.v, r.d.ID, r.p, replaceOpts{
		strategy: strategy, batch: r.v.Manifest.Deploy.Batch, drain: r.v.Manifest.Deploy.Drain.D(),
		restart: r.opts.restart, restartProcess: r.opts.restartProcess,
	})
	if err != nil {
		return err
	}
	r.env.Release, r.env.Config, r.env.Scale = r.rel.Number, r.rel.Config, r.rel.Scale
	return r.o.store.UpdateEnv(r.o.ctx, r.env)
}

// succeed records that the release serves.
func (r *rollout) succeed(took time.Duration) {
	r.p.step("Release %d (%s) serves: %s, in %.2fs", r.rel.Number, r.v.Label, r.summary(), took.Seconds())
	r.finish(jack.DeploymentSucceeded, "", nil)
	r.o.event(r.env.ID, "deploy", "Deployment %d succeeded: release %d (%s) serves", r.d.ID, r.rel.Number, r.v.Label)
	if r.d.Kind == jack.KindRollback {
		r.notify(jack.HookDeployRolledBack, jack.DeploymentSucceeded, "")
	} else {
		r.notify(jack.HookDeploySucceeded, jack.DeploymentSucceeded, "")
	}
}

// fail undoes the deployment and records why it failed. A deployment cut
// short by Close is only recorded: the next Open undoes it.
func (r *rollout) fail(err error) {
	reason, output := r.failure(err)
	if r.o.ctx.Err() != nil {
		reason = "interrupted: jack server stopped during the deployment; it undoes it when it starts again"
		r.finish(jack.DeploymentFailed, reason, output)
		return
	}
	r.p.step("Failed: %s", reason)
	if r.env.Release > 0 {
		r.p.step("Undoing: release %d keeps serving", r.env.Release)
	}
	uerr := r.undo()
	if uerr != nil {
		reason += "; undoing it also failed: " + uerr.Error()
	}
	r.finish(jack.DeploymentFailed, reason, output)
	r.o.event(r.env.ID, "deploy", "Deployment %d failed: %s", r.d.ID, reason)
	r.notify(jack.HookDeployFailed, jack.DeploymentFailed, reason)
	if uerr == nil && r.env.Release > 0 {
		r.notify(jack.HookDeployRolledBack, jack.DeploymentFailed, reason)
	}
}

// undo removes what the deployment started and brings the environment
// back to the release that served before it.
func (r *rollout) undo() error {
	o, st, ctx := r.o, r.st, r.o.ctx
	// Instances of this deployment that never carried traffic go at once.
	o.mu.Lock()
	var unproven []*instance
	for _, in := range st.instances {
		if in.deploy == r.d.ID && !in.routed && !in.stopping {
			unproven = append(unproven, in)
		}
	}
	o.mu.Unlock()
	if err := o.retire(ctx, unproven, 0, nil); err != nil {
		return err
	}
	if r.env.Release == 0 {
		return o.retire(ctx, o.live(st), jack.DefaultDrain, r.p)
	}
	rel, v, err := o.current(ctx, r.env)
	if err != nil {
		return err
	}
	return o.replaceInstances(ctx, st, r.env, rel, v, 0, r.p, replaceOpts{
		strategy: jack.StrategyImmutable, drain: v.Manifest.Deploy.Drain.D(),
	})
}

// finish records the deployment's end, forgets it from memory and frees the
// environment, before followers hear of the end: a client that saw it end
// can deploy again at once.
func (r *rollout) finish(state, reason string, output []string) {
	o := r.o
	o.mu.Lock()
	final := *r.d
	final.Steps = append([]jack.Step(nil), r.d.Steps...)
	o.mu.Unlock()
	final.State, final.Reason, final.Output = state, reason, output
	if final.FinishedAt == nil {
		now := o.now()
		final.FinishedAt = &now
	}
	if err := o.store.UpdateDeployment(context.WithoutCancel(o.ctx), &final); err != nil {
		o.logger.Error("save deployment", "deployment", r.d.ID, "err", err)
	}
	o.mu.Lock()
	delete(o.running, r.d.ID)
	o.mu.Unlock()
	o.unclaim(r.st)
	o.watchers.notify(r.d.ID)
}

// failure turns the error that failed the deployment into the reason users
// read, with the last lines the failing instance wrote.
func (r *rollout) failure(err error) (string, []string) {
	var re *releaseError
	if errors.As(err, &re) {
		return re.reason, re.output
	}
	var ie *instanceError
	if !errors.As(err, &ie) {
		return jack.ErrorMessage(asUserError(err)), nil
	}
	lines, lerr := r.o.runtime.Logs(context.WithoutCancel(r.o.ctx), ie.in.c.ID, 20)
	if lerr != nil {
		r.o.logger.Warn("read output of failed instance", "instance", ie.in.c.ID, "err", lerr)
	}
	return ie.err.Error(), lines
}

// summary describes the instances that serve, e.g. "web ×2, worker ×1".
func (r *rollout) summary() string {
	r.o.mu.Lock()
	defer r.o.mu.Unlock()
	var parts []string
	for _, p := range r.st.processes() {
		parts = append(parts, fmt.Sprintf("%s ×%d", p, len(r.st.byProcess(p))))
	}
	if len(parts) == 0 {
		return "no instances"
	}
	return strings.Join(parts, ", ")
}

// asUserError keeps *jack.Error as it is and turns anything else into one
// whose message is the error's text: a deployment's reason is always shown.
func asUserError(err error) error {
	var je *jack.Error
	if errors.As(err, &je) {
		return err
	}
	return jack.Errorf(jack.EFAILED, "%s", err.Error())
}

func firstOf(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}
