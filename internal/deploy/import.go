package deploy

import (
	"context"

	jack "github.com/jack-paas/jack"
)

// ImportVersion makes a version of app from an image in a registry (pulled
// when the engine lacks it), pinned to its digest, without deploying it:
// what a push to Jack's registry makes. label names the version when it is
// a valid label no version of the app has; else it is the next vN.
// Importing the same image again returns the version made the first time.
func (o *Orchestrator) ImportVersion(ctx context.Context, app, ref, label string) (*jack.Version, error) {
	a, err := o.store.FindApp(ctx, app)
	if err != nil {
		return nil, err
	}
	auth, err := o.registryAuth(ctx, ref)
	if err != nil {
		return nil, err
	}
	pulled, err := o.runtime.PullImage(ctx, ref, auth, nil)
	if err != nil {
		return nil, err
	}
	if versions, err := o.store.ListVersions(ctx, a.ID); err != nil {
		return nil, err
	} else {
		for _, v := range versions {
			if v.ImageID == pulled.ID && v.Digest == pulled.Digest {
				return v, nil
			}
			if v.Label == label {
				label = "" // taken: the next vN
			}
		}
	}
	if jack.ValidateName("version", label) != nil {
		label = ""
	}
	return o.version(ctx, a.ID, jack.DeployRequest{Image: ref, Label: label}, &pulled)
}

// Pushed makes a version of an image pushed to Jack's registry as app:tag
// (tag "" for a push by digest), and deploys it to each environment of the
// app that deploys on a push of that tag; each says in an event what became
// of the push.
func (o *Orchestrator) Pushed(ctx context.Context, app, image, tag string) (*jack.Version, error) {
	v, err := o.ImportVersion(ctx, app, image, tag)
	if err != nil || tag == "" {
		return v, err
	}
	envs, err := o.store.ListEnvs(ctx, app)
	if err != nil {
		return v, err
	}
	for _, env := range envs {
		if env.DeployOnPush != tag {
			continue
		}
		d, err := o.Deploy(ctx, jack.DeployRequest{App: app, Env: env.Name, Version: v.Label})
		if err != nil {
			o.event(env.ID, "deploy", "A push of %s:%s (version %s) was not deployed: %s; deploy it with `jack deploy %s --version %s`",
				app, tag, v.Label, jack.ErrorMessage(err), env.Ref(), v.Label)
			continue
		}
		o.event(env.ID, "deploy", "A push of %s:%s deploys version %s (deployment %d)", app, tag, v.Label, d.ID)
	}
	return v, nil
}
