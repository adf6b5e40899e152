package deploy

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	jack "github.com/jack-paas/jack"
)

// runOpts are the choices of one deployment beyond its release.
type runOpts struct {
	timeout        time.Duration // 0: the manifest's deploy.timeout
	restart        bool          // replace instances even where nothing changed
	restartProcess string        // with restart: only this process ("" for all)
	skipRelease    bool          // leave the release command out
	forceRelease   bool          // run the release command even where it would not run
}

// prepareFunc makes the release a deployment rolls out, under the
// environment's lock. A release with an ID is rolled out as it is.
type prepareFunc func(st *envState) (*jack.Release, *jack.Version, error)

// begin takes the environment's lock, makes the release and the deployment,
// and rolls it out in the background. ECONFLICT while another runs.
func (o *Orchestrator) begin(ctx context.Context, env *jack.Environment, kind string, prepare prepareFunc, opts runOpts) (*jack.Deployment, error) {
	st, err := o.claim(ctx, env)
	if err != nil {
		return nil, err
	}
	unlock := true
	defer func() {
		if unlock {
			o.unclaim(st)
		}
	}()
	fresh, err := o.store.FindEnv(ctx, env.App, env.Name)
	if err != nil {
		return nil, err
	}
	*env = *fresh
	rel, v, err := prepare(st)
	if err != nil {
		return nil, err
	}
	if rel.ID == 0 {
		if err := o.store.CreateRelease(ctx, rel); err != nil {
			return nil, fmt.Errorf("create release: %w", err)
		}
	}
	d := &jack.Deployment{
		EnvID: env.ID, Env: env.Ref(), ReleaseID: rel.ID, ReleaseNumber: rel.Number,
		FromRelease: env.Release, Kind: kind, State: jack.DeploymentRunning, CreatedAt: o.now(),
	}
	if err := o.store.CreateDeployment(ctx, d); err != nil {
		return nil, err
	}
	o.mu.Lock()
	o.running[d.ID] = d
	cp := *d
	o.mu.Unlock()
	unlock = false
	o.wg.Add(1)
	go func() {
		defer o.wg.Done()
		o.run(st, env, rel, v, d, opts)
	}()
	return &cp, nil
}

// claim takes an environment for a user's action: refused while another
// holds it, and waiting only for a heal in progress, which it cancels.
func (o *Orchestrator) claim(ctx context.Context, env *jack.Environment) (*envState, error) {
	o.mu.Lock()
	st := o.state(env.ID)
	if st.claimed {
		o.mu.Unlock()
		return nil, o.busy(ctx, env)
	}
	st.claimed = true
	if st.cancelHeal != nil {
		st.cancelHeal()
	}
	o.mu.Unlock()
	select {
	case st.lock <- struct{}{}:
		return st, nil
	case <-ctx.Done():
		o.mu.Lock()
		st.claimed = false
		o.mu.Unlock()
		return nil, jack.Errorf(jack.ECONFLICT, "%s is busy; try again", env.Ref())
	}
}

// unclaim frees an environment taken with claim.
func (o *Orchestrator) unclaim(st *envState) {
	o.mu.Lock()
	st.claimed = false
	o.mu.Unlock()
	st.unlock()
}

// run rolls a release out and records how it ended; on failure it undoes
// what the deployment changed.
func (o *Orchestrator) run(st *envState, env *jack.Environment, rel *jack.Release, v *jack.Version, d *jack.Deployment, opts runOpts) {
	start := o.now()
	p := &progress{o: o, d: d}
	timeout := opts.timeout
	if timeout == 0 {
		timeout = v.Manifest.Deploy.Timeout.D()
	}
	ctx, cancel := context.WithTimeout(o.ctx, timeout)
	defer cancel()

	strategy := firstOf(rel.Strategy, env.Strategy, v.Manifest.Deploy.Strategy)
	switch d.Kind {
	case "restart":
		p.step("Restarting release %d (%s)", rel.Number, v.Label)
	default:
		p.step("Release %d: %s — %s (%s, image %s)", rel.Number, v.Label, rel.Description, strategy, jack.ShortID(v.ImageID))
	}
	o.event(env.ID, "deploy", "Deployment %d started: release %d, %s", d.ID, rel.Number, rel.Description)
	o.notify(jack.HookDeployStarted, env, d, jack.DeploymentRunning, "")

	// The release command runs before any new instance starts; when it
	// fails, nothing else changes.
	runRelease, err := o.shouldRelease(ctx, env, v, d.Kind, opts)
	if err == nil && runRelease {
		err = o.release(ctx, env, rel, v, d, p)
	}
	if err == nil {
		err = o.rollout(ctx, st, env, rel, v, d.ID, p, rolloutOpts{
			strategy: strategy, batch: v.Manifest.Deploy.Batch, drain: v.Manifest.Deploy.Drain.D(),
			restart: opts.restart, restartProcess: opts.restartProcess,
		})
	}
	if err == nil {
		env.Release, env.Config, env.Scale = rel.Number, rel.Config, rel.Scale
		err = o.store.UpdateEnv(o.ctx, env)
	}
	o.mu.Lock()
	now := o.now()
	d.FinishedAt = &now
	o.mu.Unlock()
	if err == nil {
		p.step("Release %d (%s) serves: %s, in %.2fs", rel.Number, v.Label, o.summary(st), now.Sub(start).Seconds())
		o.finish(st, d, jack.DeploymentSucceeded, "", nil)
		o.event(env.ID, "deploy", "Deployment %d succeeded: release %d (%s) serves", d.ID, rel.Number, v.Label)
		if d.Kind == "rollback" {
			o.notify(jack.HookDeployRolledBack, env, d, jack.DeploymentSucceeded, "")
		} else {
			o.notify(jack.HookDeploySucceeded, env, d, jack.DeploymentSucceeded, "")
		}
		return
	}
	reason, output := o.failure(err)
	if o.ctx.Err() != nil {
		reason = "interrupted: jack server stopped during the deployment; it undoes it when it starts again"
		o.finish(st, d, jack.DeploymentFailed, reason, output)
		return
	}
	p.step("Failed: %s", reason)
	if env.Release > 0 {
		p.step("Undoing: release %d keeps serving", env.Release)
	}
	uerr := o.undo(st, env, d.ID, p)
	if uerr != nil {
		reason += "; undoing it also failed: " + uerr.Error()
	}
	o.finish(st, d, jack.DeploymentFailed, reason, output)
	o.event(env.ID, "deploy", "Deployment %d failed: %s", d.ID, reason)
	o.notify(jack.HookDeployFailed, env, d, jack.DeploymentFailed, reason)
	if uerr == nil && env.Release > 0 {
		o.notify(jack.HookDeployRolledBack, env, d, jack.DeploymentFailed, reason)
	}
}

// finish records a deployment's end, forgets it from memory and frees the
// environment, before followers hear of the end: a client that saw it end
// can deploy again at once.
func (o *Orchestrator) finish(st *envState, d *jack.Deployment, state, reason string, output []string) {
	o.mu.Lock()
	final := *d
	final.Steps = append([]jack.Step(nil), d.Steps...)
	o.mu.Unlock()
	final.State, final.Reason, final.Output = state, reason, output
	if final.FinishedAt == nil {
		now := o.now()
		final.FinishedAt = &now
	}
	if err := o.store.UpdateDeployment(context.WithoutCancel(o.ctx), &final); err != nil {
		o.logger.Error("save deployment", "deployment", d.ID, "err", err)
	}
	o.mu.Lock()
	delete(o.running, d.ID)
	o.mu.Unlock()
	o.unclaim(st)
	o.watchers.notify(d.ID)
}

// failure turns a rollout error into the reason users read, with the last
// lines the failing instance wrote.
func (o *Orchestrator) failure(err error) (string, []string) {
	var re *releaseError
	if errors.As(err, &re) {
		return re.reason, re.output
	}
	var ie *instanceError
	if !errors.As(err, &ie) {
		return jack.ErrorMessage(asUserError(err)), nil
	}
	lines, lerr := o.runtime.Logs(context.WithoutCancel(o.ctx), ie.in.c.ID, 20)
	if lerr != nil {
		o.logger.Warn("read output of failed instance", "instance", ie.in.c.ID, "err", lerr)
	}
	return ie.err.Error(), lines
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

// summary describes the instances that serve, e.g. "web ×2, worker ×1".
func (o *Orchestrator) summary(st *envState) string {
	o.mu.Lock()
	defer o.mu.Unlock()
	var parts []string
	for _, p := range st.processes() {
		parts = append(parts, fmt.Sprintf("%s ×%d", p, len(st.byProcess(p))))
	}
	if len(parts) == 0 {
		return "no instances"
	}
	return strings.Join(parts, ", ")
}

func firstOf(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}
