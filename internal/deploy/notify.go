package deploy

import (
	jack "github.com/jack-paas/jack"
)

// notify tells Config.OnDeployment that the deployment started or ended,
// with a copy of it in the given state.
func (r *rollout) notify(event, state, reason string) {
	o := r.o
	if o.checker.onDeployment == nil {
		return
	}
	o.mu.Lock()
	cp := *r.d
	cp.Steps = append([]jack.Step(nil), r.d.Steps...)
	o.mu.Unlock()
	cp.State = state
	if reason != "" {
		cp.Reason = reason
	}
	envCopy := *r.env
	o.checker.onDeployment(jack.DeployNotice{Event: event, Env: &envCopy, Deployment: &cp})
}
