package deploy

import (
	"context"
	"fmt"
	"time"

	jack "github.com/jack-paas/jack"
)

// runOpts are the choices of one deployment beyond its release.
type runOpts struct {
	timeout        time.Duration       // 0: the manifest's deploy.timeout
	restart        bool                // replace instances even where nothing changed
	restartProcess string              // with restart: only this process ("" for all)
	release        jack.ReleaseOptions // skip or force the release command
}

// prepareFunc makes the release a deployment rolls out, under the
// environment's lock. A release with an ID is rolled out as it is.
type prepareFunc func(st *envState) (*jack.Release, *jack.Version, error)

// begin takes the environment's lock, makes the release and the deployment,
// and rolls it out in the background (see rollout). ECONFLICT while another
// runs.
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
	r := &rollout{o: o, st: st, env: env, rel: rel, v: v, d: d, p: &progress{o: o, d: d}, opts: opts}
	o.wg.Add(1)
	go func() {
		defer o.wg.Done()
		r.run()
	}()
	return &cp, nil
}

// preparedFunc makes the release of a deployment that began before it (see
// beginPrepared), recording its progress as steps; ctx ends with the
// orchestrator.
type preparedFunc func(ctx context.Context, p *progress) (*jack.Release, *jack.Version, error)

// beginPrepared is begin for a release that takes long to make (its image
// is pulled first): it takes the lock and records the deployment, without
// a release, at once; in the background prepare makes the release, which
// the deployment then rolls out. ECONFLICT while another runs.
func (o *Orchestrator) beginPrepared(ctx context.Context, env *jack.Environment, kind string, prepare preparedFunc, opts runOpts) (*jack.Deployment, error) {
	st, err := o.claim(ctx, env)
	if err != nil {
		return nil, err
	}
	fresh, err := o.store.FindEnv(ctx, env.App, env.Name)
	if err != nil {
		o.unclaim(st)
		return nil, err
	}
	*env = *fresh
	d := &jack.Deployment{
		EnvID: env.ID, Env: env.Ref(), FromRelease: env.Release, Kind: kind, State: jack.DeploymentRunning, CreatedAt: o.now(),
	}
	if err := o.store.CreateDeployment(ctx, d); err != nil {
		o.unclaim(st)
		return nil, err
	}
	o.mu.Lock()
	o.running[d.ID] = d
	cp := *d
	o.mu.Unlock()
	r := &rollout{o: o, st: st, env: env, d: d, p: &progress{o: o, d: d}, opts: opts, prepare: prepare}
	o.wg.Add(1)
	go func() {
		defer o.wg.Done()
		r.run()
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
