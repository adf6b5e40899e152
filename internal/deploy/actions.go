package deploy

import (
	"context"
	"fmt"
	"maps"
	"sort"
	"strings"
	"time"

	jack "github.com/jack-paas/jack"
)

// Deploy makes (or picks) a version and rolls out a release of it.
func (o *Orchestrator) Deploy(ctx context.Context, req jack.DeployRequest) (*jack.Deployment, error) {
	if err := req.Validate(); err != nil {
		return nil, err
	}
	env, err := o.store.FindEnv(ctx, req.App, req.Env)
	if err != nil {
		return nil, err
	}
	if _, _, _, err := o.manifest(ctx, &req); err != nil {
		return nil, err // a bad manifest fails before anything, a pull included
	}
	if pull, err := o.needsPull(ctx, req); err != nil {
		return nil, err
	} else if pull {
		return o.beginWithPull(ctx, env, req)
	}
	return o.begin(ctx, env, jack.KindDeploy, func(st *envState) (*jack.Release, *jack.Version, error) {
		v, err := o.version(ctx, env.AppID, req, nil)
		if err != nil {
			return nil, nil, err
		}
		rel := &jack.Release{
			EnvID: env.ID, VersionID: v.ID, Version: v.Label,
			Config: env.Config, Scale: env.Scale, Strategy: req.Strategy,
			Description: "Deploy " + v.Label,
		}
		return rel, v, nil
	}, runOpts{timeout: req.Timeout, release: req.ReleaseOptions()})
}

// version returns the version a deploy request names: an existing one by
// label, or a new one made from the image, pinned to its ID and, when it
// came from a registry, its content digest. pulled is the image a pull
// just brought (nil: the engine has it). Deploying the same image with the
// same manifest again reuses the app's newest version.
func (o *Orchestrator) version(ctx context.Context, appID int64, req jack.DeployRequest, pulled *jack.ImageInfo) (*jack.Version, error) {
	if req.Version != "" {
		return o.store.FindVersion(ctx, appID, req.Version)
	}
	manifest, source, text, err := o.manifest(ctx, &req)
	if err != nil {
		return nil, err
	}
	var image jack.ImageInfo
	if pulled != nil {
		image = *pulled
	} else if image, err = o.runtime.InspectImage(ctx, req.Image); err != nil {
		return nil, err
	}
	if source == "defaults" {
		// No -f: the image's own /jack.yaml, if it has one.
		if m, t, found, err := o.imageManifest(ctx, image.ID); err != nil {
			return nil, err
		} else if found {
			manifest, source, text = m, "image", t
		}
	}
	v := &jack.Version{
		AppID: appID, Label: req.Label, Image: req.Image, ImageID: image.ID, Digest: image.Digest,
		Manifest: manifest.WithDefaults(image), Source: source, ManifestText: text,
	}
	if req.Label == "" {
		if latest, err := o.store.ListVersions(ctx, appID); err == nil && len(latest) > 0 && sameBuild(latest[0], v) {
			return latest[0], nil
		}
	}
	tmp, err := o.copyStatic(ctx, image.ID, v.Manifest)
	if err != nil {
		return nil, err
	}
	if err := o.store.CreateVersion(ctx, v); err != nil {
		o.keepStatic(tmp, 0) // removes it: no version has ID 0
		return nil, err
	}
	if err := o.keepStatic(tmp, v.ID); err != nil {
		return nil, err
	}
	return v, nil
}

func sameBuild(a, b *jack.Version) bool {
	return a.ImageID == b.ImageID && a.Image == b.Image && a.ManifestText == b.ManifestText && a.Source == b.Source
}

// Rollback rolls out a copy of an earlier release's version and config;
// opts decide about the release command, which otherwise runs only when
// the version changes.
func (o *Orchestrator) Rollback(ctx context.Context, app, envName string, to int, opts jack.ReleaseOptions) (*jack.Deployment, error) {
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	env, err := o.store.FindEnv(ctx, app, envName)
	if err != nil {
		return nil, err
	}
	if env.Release == 0 {
		return nil, jack.Errorf(jack.EINVALID, "%s has never been deployed; there is nothing to roll back to", env.Ref())
	}
	target, err := o.rollbackTarget(ctx, env, to)
	if err != nil {
		return nil, err
	}
	return o.begin(ctx, env, jack.KindRollback, func(*envState) (*jack.Release, *jack.Version, error) {
		v, err := o.store.FindVersionByID(ctx, target.VersionID)
		if err != nil {
			return nil, nil, err
		}
		rel := &jack.Release{
			EnvID: env.ID, VersionID: v.ID, Version: v.Label,
			Config: target.Config, Scale: env.Scale,
			Description: fmt.Sprintf("Rollback to %d (%s)", target.Number, v.Label),
		}
		return rel, v, nil
	}, runOpts{release: opts})
}

// rollbackTarget returns release to, or the newest release before the
// current one that served.
func (o *Orchestrator) rollbackTarget(ctx context.Context, env *jack.Environment, to int) (*jack.Release, error) {
	if to > 0 {
		if to == env.Release {
			return nil, jack.Errorf(jack.EINVALID, "release %d is the one serving %s already", to, env.Ref())
		}
		return o.store.FindRelease(ctx, env.ID, to)
	}
	releases, err := o.store.ListReleases(ctx, env.ID)
	if err != nil {
		return nil, err
	}
	for _, r := range releases {
		if r.Number < env.Release && r.State == jack.DeploymentSucceeded {
			return r, nil
		}
	}
	return nil, jack.Errorf(jack.EINVALID, "%s has no earlier release that served; see `jack releases %s`", env.Ref(), env.Ref())
}

// SetConfig changes config vars: stored at once while nothing runs, else
// rolled out as a new release.
func (o *Orchestrator) SetConfig(ctx context.Context, app, envName string, set map[string]string, unset []string) (*jack.Deployment, error) {
	if len(set) == 0 && len(unset) == 0 {
		return nil, jack.Errorf(jack.EINVALID, "nothing to change: give KEY=VALUE to set or KEY to unset")
	}
	for k, v := range set {
		if err := jack.ValidateConfigKey(k); err != nil {
			return nil, err
		}
		if err := jack.ValidateConfigValue(k, v); err != nil {
			return nil, err
		}
	}
	for _, k := range unset {
		if err := jack.ValidateConfigKey(k); err != nil {
			return nil, err
		}
	}
	env, err := o.store.FindEnv(ctx, app, envName)
	if err != nil {
		return nil, err
	}
	config := maps.Clone(env.Config)
	if config == nil {
		config = map[string]string{}
	}
	maps.Copy(config, set)
	for _, k := range unset {
		delete(config, k)
	}
	desc := configDescription(set, unset)
	if env.Release == 0 {
		return nil, o.storeOnly(ctx, env, func(e *jack.Environment) { e.Config = config }, "config", desc)
	}
	return o.begin(ctx, env, jack.KindConfig, func(*envState) (*jack.Release, *jack.Version, error) {
		cur, v, err := o.current(ctx, env)
		if err != nil {
			return nil, nil, err
		}
		rel := &jack.Release{
			EnvID: env.ID, VersionID: v.ID, Version: v.Label,
			Config: config, Scale: env.Scale, Strategy: cur.Strategy, Description: desc,
		}
		return rel, v, nil
	}, runOpts{})
}

func configDescription(set map[string]string, unset []string) string {
	var parts []string
	if len(set) > 0 {
		keys := make([]string, 0, len(set))
		for k := range set {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		parts = append(parts, "Set "+strings.Join(keys, ", "))
	}
	if len(unset) > 0 {
		parts = append(parts, "Unset "+strings.Join(unset, ", "))
	}
	return strings.Join(parts, "; ")
}

// Scale sets instance counts: stored at once while nothing runs, else
// rolled out as a new release that keeps the instances it can.
func (o *Orchestrator) Scale(ctx context.Context, app, envName string, counts map[string]int) (*jack.Deployment, error) {
	if len(counts) == 0 {
		return nil, jack.Errorf(jack.EINVALID, "nothing to scale: give PROCESS=N, e.g. web=3")
	}
	for p, n := range counts {
		if err := jack.ValidateName("process", p); err != nil {
			return nil, err
		}
		if n < 0 || n > 100 {
			return nil, jack.Errorf(jack.EINVALID, "%s=%d is out of range; scale each process to 0-100 instances", p, n)
		}
	}
	env, err := o.store.FindEnv(ctx, app, envName)
	if err != nil {
		return nil, err
	}
	scale := maps.Clone(env.Scale)
	if scale == nil {
		scale = map[string]int{}
	}
	maps.Copy(scale, counts)
	desc := "Scale " + scaleText(counts)
	if env.Release == 0 {
		return nil, o.storeOnly(ctx, env, func(e *jack.Environment) { e.Scale = scale }, "scale", desc)
	}
	return o.begin(ctx, env, jack.KindScale, func(*envState) (*jack.Release, *jack.Version, error) {
		cur, v, err := o.current(ctx, env)
		if err != nil {
			return nil, nil, err
		}
		for p := range counts {
			if v.Manifest.Processes[p] == nil {
				return nil, nil, jack.Errorf(jack.EINVALID, "process %s is not in %s's manifest (%s)", p, v.Label, strings.Join(v.Manifest.ProcessNames(), ", "))
			}
		}
		rel := &jack.Release{
			EnvID: env.ID, VersionID: v.ID, Version: v.Label,
			Config: cur.Config, Scale: scale, Strategy: cur.Strategy, Description: desc,
		}
		return rel, v, nil
	}, runOpts{})
}

func scaleText(counts map[string]int) string {
	keys := make([]string, 0, len(counts))
	for k := range counts {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for i, k := range keys {
		keys[i] = fmt.Sprintf("%s=%d", k, counts[k])
	}
	return strings.Join(keys, " ")
}

// Restart replaces the instances of a process ("" for all) with fresh ones,
// rolling, without a new release.
func (o *Orchestrator) Restart(ctx context.Context, app, envName, process string) (*jack.Deployment, error) {
	env, err := o.store.FindEnv(ctx, app, envName)
	if err != nil {
		return nil, err
	}
	if env.Release == 0 {
		return nil, jack.Errorf(jack.EINVALID, "%s has never been deployed; there is nothing to restart", env.Ref())
	}
	return o.begin(ctx, env, jack.KindRestart, func(*envState) (*jack.Release, *jack.Version, error) {
		r, v, err := o.current(ctx, env)
		if err != nil {
			return nil, nil, err
		}
		if process != "" && v.Manifest.Processes[process] == nil {
			return nil, nil, jack.Errorf(jack.EINVALID, "process %s is not in %s's manifest (%s)", process, v.Label, strings.Join(v.Manifest.ProcessNames(), ", "))
		}
		return r, v, nil
	}, runOpts{restart: true, restartProcess: process})
}

// storeOnly applies a change to an environment that runs nothing yet.
func (o *Orchestrator) storeOnly(ctx context.Context, env *jack.Environment, change func(*jack.Environment), kind, desc string) error {
	st, err := o.claim(ctx, env)
	if err != nil {
		return err
	}
	defer o.unclaim(st)
	env, err = o.store.FindEnv(ctx, env.App, env.Name)
	if err != nil {
		return err
	}
	if env.Release != 0 {
		return jack.Errorf(jack.ECONFLICT, "%s was deployed meanwhile; try again", env.Ref())
	}
	change(env)
	if err := o.store.UpdateEnv(ctx, env); err != nil {
		return err
	}
	o.event(env.ID, kind, "%s (stored; applies at the first deploy)", desc)
	return nil
}

// busy returns the error for an environment whose lock is taken.
func (o *Orchestrator) busy(ctx context.Context, env *jack.Environment) error {
	running, err := o.store.ListDeployments(ctx, env.ID, 1, jack.DeploymentPending, jack.DeploymentRunning)
	if err == nil && len(running) > 0 {
		d := running[0]
		return jack.Errorf(jack.ECONFLICT, "%s is already deploying (deployment %d, started %s ago); wait for it to finish, then try again",
			env.Ref(), d.ID, o.now().Sub(d.CreatedAt).Round(time.Second))
	}
	return jack.Errorf(jack.ECONFLICT, "%s is busy replacing instances; try again in a moment", env.Ref())
}

// DeleteEnv stops an environment's instances and removes it.
func (o *Orchestrator) DeleteEnv(ctx context.Context, app, envName string) error {
	env, err := o.store.FindEnv(ctx, app, envName)
	if err != nil {
		return err
	}
	st, err := o.claim(ctx, env)
	if err != nil {
		return err
	}
	defer o.unclaim(st)
	o.mu.Lock()
	var all []*instance
	for _, in := range st.instances {
		all = append(all, in)
	}
	o.mu.Unlock()
	if err := o.retire(ctx, all, jack.DefaultDrain, nil); err != nil {
		return err
	}
	o.oneOffs.stop(ctx, env.App, env.Name)
	if err := o.store.DeleteEnv(ctx, env.ID); err != nil {
		return err
	}
	o.mu.Lock()
	delete(o.envs, env.ID)
	o.mu.Unlock()
	return o.publish(ctx)
}
