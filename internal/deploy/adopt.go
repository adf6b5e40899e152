package deploy

import (
	"context"
	"fmt"
	"sync"
	"time"

	jack "github.com/jack-paas/jack"
)

// adoptProbeTime bounds how long Open waits for an adopted instance to
// answer its health check before leaving it out of rotation for now.
const adoptProbeTime = 2 * time.Second

// adopt rebuilds the orchestrator's memory after a start: deployments that
// a previous run left unfinished are failed (heal then undoes them), running
// instances are taken back, healthy ones routed, and the router told.
func (o *Orchestrator) adopt(ctx context.Context) error {
	interrupted, err := o.store.ListDeployments(ctx, 0, 1000, jack.DeploymentPending, jack.DeploymentRunning)
	if err != nil {
		return fmt.Errorf("list unfinished deployments: %w", err)
	}
	for _, d := range interrupted {
		now := o.now()
		d.State, d.FinishedAt = jack.DeploymentFailed, &now
		d.Reason = "interrupted: jack server stopped during the deployment; undone when it started again"
		d.Steps = append(d.Steps, jack.Step{Time: now, Message: "Interrupted; undoing"})
		if err := o.store.UpdateDeployment(ctx, d); err != nil {
			return fmt.Errorf("end interrupted deployment %d: %w", d.ID, err)
		}
		o.event(d.EnvID, "deploy", "Deployment %d was interrupted by a restart of jack server; undoing it", d.ID)
	}

	envs, err := o.store.ListEnvs(ctx, "")
	if err != nil {
		return fmt.Errorf("list environments: %w", err)
	}
	byRef := map[string]*jack.Environment{}
	for _, e := range envs {
		byRef[e.Ref()] = e
	}
	cs, err := o.runtime.List(ctx, "", "")
	if err != nil {
		return fmt.Errorf("list instances: %w", err)
	}
	served := o.servedUpstreams(ctx)
	var wg sync.WaitGroup
	var gone []string
	for _, c := range cs {
		env := byRef[c.App+"/"+c.Env]
		if env == nil || !c.Running {
			// An environment deleted while the daemon was down, or an
			// instance that died: nothing to keep.
			gone = append(gone, c.ID)
			continue
		}
		in := newInstance(c, jack.InstanceStarting)
		in.routed = served[c.ID] // as the router serves it, until its probe says
		o.mu.Lock()
		o.state(env.ID).instances[c.ID] = in
		o.mu.Unlock()
		wg.Add(1)
		go func() {
			defer wg.Done()
			o.adoptOne(ctx, env, in)
		}()
	}
	if len(gone) > 0 && served != nil {
		// The router has served from its last table while the daemon was
		// down: it stops sending requests to the dead instances now, not
		// after the probes of the living.
		if err := o.publish(ctx); err != nil {
			o.logger.Warn("publish the routes of the running instances", "err", err)
		}
	}
	wg.Wait()
	// Then the table of what passed its probe, before anything slower
	// happens (removing a container reads its output to the end first).
	err = o.publish(ctx)
	for _, id := range gone {
		if err := o.runtime.Stop(ctx, id, time.Second); err != nil {
			o.logger.Warn("remove container", "container", jack.ShortID(id), "err", err)
		}
	}
	return err
}

// adoptOne checks an adopted instance's health and routes it if it passes.
func (o *Orchestrator) adoptOne(ctx context.Context, env *jack.Environment, in *instance) {
	proc := o.processOf(ctx, env, in.c)
	if proc == nil {
		o.mu.Lock()
		in.routed = false
		o.mu.Unlock()
		return // its release is gone: heal retires it
	}
	ctx, cancel := context.WithTimeout(ctx, adoptProbeTime)
	defer cancel()
	if err := o.waitHealthy(ctx, in, proc); err != nil {
		o.logger.Warn("adopted instance is not healthy", "env", env.Ref(), "instance", in.c.Name(), "err", err)
		o.mu.Lock()
		in.state = jack.InstanceUnhealthy
		in.routed = false
		o.mu.Unlock()
		return
	}
	o.mu.Lock()
	in.state = jack.InstanceHealthy
	in.routed = proc.Routed(in.c.Process) && env.Tier == jack.TierWeb
	o.mu.Unlock()
}

// processOf returns the manifest entry an instance was started from.
func (o *Orchestrator) processOf(ctx context.Context, env *jack.Environment, c *jack.Container) *jack.Process {
	rel, err := o.store.FindRelease(ctx, env.ID, c.Release)
	if err != nil {
		return nil
	}
	v, err := o.store.FindVersionByID(ctx, rel.VersionID)
	if err != nil {
		return nil
	}
	return v.Manifest.Processes[c.Process]
}

// servedUpstreams returns the IDs of the upstreams in the table the router
// serves, or nil when the router cannot say (an in-process router, or one
// that does not answer).
func (o *Orchestrator) servedUpstreams(ctx context.Context) map[string]bool {
	r, ok := o.router.(interface {
		Routes(context.Context) (jack.RouteTable, error)
	})
	if !ok {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	table, err := r.Routes(ctx)
	if err != nil {
		return nil
	}
	served := map[string]bool{}
	for _, route := range table.Routes {
		for _, u := range route.Upstreams {
			served[u.ID] = true
		}
	}
	return served
}
