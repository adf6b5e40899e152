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
