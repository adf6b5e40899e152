package httpapitest

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"maps"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/jack-paas/jack"
)

// Outcome is how the fake ends the deployments it starts.
type Outcome struct {
	Steps  []string // messages, stamped 100ms apart from the deployment's start
	Fail   string   // the reason when the deployment fails; "" for success
	Output []string // the failing instance's last lines
}

// Orchestrator is a fake jack.Orchestrator. It records each call, and for
// each deployment makes the version, release and deployment in Store as the
// real one would. With Next set it ends each deployment at once as Next
// says; without, it leaves them running for the test to drive with Step and
// Finish.
type Orchestrator struct {
	Store jack.Store

	mu        sync.Mutex
	calls     []string
	next      *Outcome
	instances []*jack.Instance
}

var _ jack.Orchestrator = (*Orchestrator)(nil)

// SetNext sets how the next deployments end; nil leaves them running.
func (o *Orchestrator) SetNext(out *Outcome) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.next = out
}

// SetInstances sets what Instances returns.
func (o *Orchestrator) SetInstances(instances []*jack.Instance) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.instances = instances
}

// Calls returns the calls made so far, such as "Scale notes/production
// web=3". Config calls list keys, never values.
func (o *Orchestrator) Calls() []string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return append([]string(nil), o.calls...)
}

func (o *Orchestrator) record(format string, args ...any) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.calls = append(o.calls, fmt.Sprintf(format, args...))
}

// Deploy makes a version of req.Image (or finds req.Version) and deploys it.
func (o *Orchestrator) Deploy(ctx context.Context, req jack.DeployRequest) (*jack.Deployment, error) {
	o.record("Deploy %s/%s image=%s version=%s manifest=%s label=%s strategy=%s timeout=%s",
		req.App, req.Env, req.Image, req.Version, req.ManifestName, req.Label, req.Strategy, req.Timeout)
	env, err := o.Store.FindEnv(ctx, req.App, req.Env)
	if err != nil {
		return nil, err
	}
	var v *jack.Version
	if req.Version != "" {
		if v, err = o.Store.FindVersion(ctx, env.AppID, req.Version); err != nil {
			return nil, err
		}
	} else {
		sum := sha256.Sum256([]byte(req.Image))
		v = &jack.Version{
			AppID: env.AppID, Label: req.Label, Image: req.Image,
			ImageID:  "sha256:" + hex.EncodeToString(sum[:]),
			Manifest: (&jack.Manifest{}).WithDefaults(jack.ImageInfo{}),
			Source:   "defaults", ManifestText: req.Manifest,
		}
		if req.ManifestName != "" {
			v.Source = req.ManifestName
		}
		if err := o.Store.CreateVersion(ctx, v); err != nil {
			return nil, err
		}
	}
	rel := &jack.Release{EnvID: env.ID, VersionID: v.ID, Config: env.Config, Scale: env.Scale,
		Strategy: req.Strategy, Description: "Deploy " + v.Label}
	return o.start(ctx, env, rel, jack.KindDeploy)
}

// Rollback deploys a copy of release to, or of the one before the current.
// The call it records names the release options when they are set.
func (o *Orchestrator) Rollback(ctx context.Context, app, env string, to int, opts jack.ReleaseOptions) (*jack.Deployment, error) {
	o.record("Rollback %s/%s to=%d%s", app, env, to, releaseOptionsText(opts))
	e, err := o.Store.FindEnv(ctx, app, env)
	if err != nil {
		return nil, err
	}
	if to == 0 {
		to = e.Release - 1
	}
	from, err := o.Store.FindRelease(ctx, e.ID, to)
	if err != nil {
		return nil, err
	}
	rel := &jack.Release{EnvID: e.ID, VersionID: from.VersionID, Config: from.Config, Scale: from.Scale,
		Description: fmt.Sprintf("Rollback to %d", to)}
	return o.start(ctx, e, rel, jack.KindRollback)
}

// SetConfig changes config vars: stored at once before the first deploy,
// else rolled out as a new release.
func (o *Orchestrator) SetConfig(ctx context.Context, app, env string, set map[string]string, unset []string) (*jack.Deployment, error) {
	o.record("SetConfig %s/%s set=%s unset=%s", app, env, strings.Join(sortedKeys(set), ","), strings.Join(unset, ","))
	e, err := o.Store.FindEnv(ctx, app, env)
	if err != nil {
		return nil, err
	}
	config := maps.Clone(e.Config)
	if config == nil {
		config = map[string]string{}
	}
	maps.Copy(config, set)
	for _, k := range unset {
		delete(config, k)
	}
	if e.Release == 0 {
		e.Config = config
		return nil, o.Store.UpdateEnv(ctx, e)
	}
	return o.change(ctx, e, jack.KindConfig, "Set config", func(r *jack.Release) { r.Config = config })
}

// Scale changes instance counts, as SetConfig does config.
func (o *Orchestrator) Scale(ctx context.Context, app, env string, scale map[string]int) (*jack.Deployment, error) {
	parts := []string{}
	for _, p := range sortedKeys(scale) {
		parts = append(parts, fmt.Sprintf("%s=%d", p, scale[p]))
	}
	o.record("Scale %s/%s %s", app, env, strings.Join(parts, " "))
	e, err := o.Store.FindEnv(ctx, app, env)
	if err != nil {
		return nil, err
	}
	merged := maps.Clone(e.Scale)
	if merged == nil {
		merged = map[string]int{}
	}
	maps.Copy(merged, scale)
	if e.Release == 0 {
		e.Scale = merged
		return nil, o.Store.UpdateEnv(ctx, e)
	}
	return o.change(ctx, e, jack.KindScale, "Scale", func(r *jack.Release) { r.Scale = merged })
}

// Restart redeploys the current release.
func (o *Orchestrator) Restart(ctx context.Context, app, env, process string) (*jack.Deployment, error) {
	o.record("Restart %s/%s process=%s", app, env, process)
	e, err := o.Store.FindEnv(ctx, app, env)
	if err != nil {
		return nil, err
	}
	if e.Release == 0 {
		return nil, jack.Errorf(jack.ECONFLICT, "%s runs nothing yet; deploy first", e.Ref())
	}
	cur, err := o.Store.FindRelease(ctx, e.ID, e.Release)
	if err != nil {
		return nil, err
	}
	return o.begin(ctx, e, cur, jack.KindRestart)
}

// Instances returns what SetInstances set.
func (o *Orchestrator) Instances(ctx context.Context, app, env string) ([]*jack.Instance, error) {
	o.record("Instances %s/%s", app, env)
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.instances, nil
}

// DeleteEnv removes the environment from the store.
func (o *Orchestrator) DeleteEnv(ctx context.Context, app, env string) error {
	o.record("DeleteEnv %s/%s", app, env)
	e, err := o.Store.FindEnv(ctx, app, env)
	if err != nil {
		return err
	}
	return o.Store.DeleteEnv(ctx, e.ID)
}

// WaitDeployment polls the store until the deployment has more than seen
// steps or has ended.
func (o *Orchestrator) WaitDeployment(ctx context.Context, id int64, seen int) (*jack.Deployment, error) {
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for {
		d, err := o.Store.FindDeployment(ctx, id)
		if err != nil || len(d.Steps) > seen || d.Done() {
			return d, err
		}
		select {
		case <-ctx.Done():
			return d, ctx.Err()
		case <-tick.C:
		}
	}
}

// Step adds a step to a running deployment.
func (o *Orchestrator) Step(ctx context.Context, id int64, message string) error {
	d, err := o.Store.FindDeployment(ctx, id)
	if err != nil {
		return err
	}
	d.Steps = append(d.Steps, jack.Step{Time: time.Now(), Message: message})
	return o.Store.UpdateDeployment(ctx, d)
}

// Finish ends a running deployment: failed with reason, or succeeded when
// reason is "", making its release the environment's.
func (o *Orchestrator) Finish(ctx context.Context, id int64, reason string, output []string) error {
	return o.finish(ctx, id, time.Now(), reason, output)
}

// finish is Finish with the time the deployment ended.
func (o *Orchestrator) finish(ctx context.Context, id int64, at time.Time, reason string, output []string) error {
	d, err := o.Store.FindDeployment(ctx, id)
	if err != nil {
		return err
	}
	d.FinishedAt, d.Reason, d.Output = &at, reason, output
	d.State = jack.DeploymentSucceeded
	if reason != "" {
		d.State = jack.DeploymentFailed
	}
	if err := o.Store.UpdateDeployment(ctx, d); err != nil || reason != "" {
		return err
	}
	app, name, _ := strings.Cut(d.Env, "/")
	env, err := o.Store.FindEnv(ctx, app, name)
	if err != nil {
		return err
	}
	rel, err := o.Store.FindRelease(ctx, env.ID, d.ReleaseNumber)
	if err != nil {
		return err
	}
	env.Release, env.Config, env.Scale = rel.Number, rel.Config, rel.Scale
	return o.Store.UpdateEnv(ctx, env)
}

// change rolls out a copy of the current release altered by edit.
func (o *Orchestrator) change(ctx context.Context, env *jack.Environment, kind, description string, edit func(*jack.Release)) (*jack.Deployment, error) {
	cur, err := o.Store.FindRelease(ctx, env.ID, env.Release)
	if err != nil {
		return nil, err
	}
	rel := &jack.Release{EnvID: env.ID, VersionID: cur.VersionID, Config: cur.Config, Scale: cur.Scale, Description: description}
	edit(rel)
	return o.start(ctx, env, rel, kind)
}

// start stores a new release and begins deploying it.
func (o *Orchestrator) start(ctx context.Context, env *jack.Environment, rel *jack.Release, kind string) (*jack.Deployment, error) {
	if err := o.Store.CreateRelease(ctx, rel); err != nil {
		return nil, err
	}
	return o.begin(ctx, env, rel, kind)
}

// begin stores a running deployment of rel and, with an outcome set, ends
// it at once. It returns the deployment as it began, as the real one does.
func (o *Orchestrator) begin(ctx context.Context, env *jack.Environment, rel *jack.Release, kind string) (*jack.Deployment, error) {
	d := &jack.Deployment{EnvID: env.ID, ReleaseID: rel.ID, FromRelease: env.Release, Kind: kind, State: jack.DeploymentRunning}
	if err := o.Store.CreateDeployment(ctx, d); err != nil {
		return nil, err
	}
	if err := o.Store.AddEvent(ctx, &jack.Event{EnvID: env.ID, Time: time.Now(), Kind: "deploy",
		Message: fmt.Sprintf("Deployment %d started: release %d", d.ID, rel.Number)}); err != nil {
		return nil, err
	}
	o.mu.Lock()
	next := o.next
	o.mu.Unlock()
	if next == nil {
		return d, nil
	}
	done := *d
	for i, msg := range next.Steps {
		done.Steps = append(done.Steps, jack.Step{Time: d.CreatedAt.Add(time.Duration(i+1) * 100 * time.Millisecond), Message: msg})
	}
	if err := o.Store.UpdateDeployment(ctx, &done); err != nil {
		return nil, err
	}
	at := d.CreatedAt.Add(time.Duration(len(next.Steps)+1) * 100 * time.Millisecond)
	if err := o.finish(ctx, d.ID, at, next.Fail, next.Output); err != nil {
		return nil, err
	}
	return d, nil
}

// releaseOptionsText is " skip_release", " force_release" or "".
func releaseOptionsText(opts jack.ReleaseOptions) string {
	switch {
	case opts.Skip:
		return " skip_release"
	case opts.Force:
		return " force_release"
	}
	return ""
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
