package deploy

import (
	jack "github.com/jack-paas/jack"
)

// notify tells Config.OnDeployment that a deployment started or ended,
// with a copy of the deployment in the given state.
func (o *Orchestrator) notify(event string, env *jack.Environment, d *jack.Deployment, state, reason string) {
	if o.checker.onDeployment == nil {
		return
	}
	o.mu.Lock()
	cp := *d
	cp.Steps = append([]jack.Step(nil), d.Steps...)
	o.mu.Unlock()
	cp.State = state
	if reason != "" {
		cp.Reason = reason
	}
	envCopy := *env
	o.checker.onDeployment(jack.DeployNotice{Event: event, Env: &envCopy, Deployment: &cp})
}
