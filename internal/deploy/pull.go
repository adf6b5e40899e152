package deploy

import (
	"context"
	"fmt"
	"time"

	"github.com/distribution/reference"
	jack "github.com/jack-paas/jack"
)

// pullTimeout bounds a deployment's pull when it asks for no timeout of
// its own: the manifest, which says how long a rollout may take, is in the
// image not pulled yet.
const pullTimeout = 10 * time.Minute

// pullStepEvery is how often a pull's progress becomes a step.
const pullStepEvery = 2 * time.Second

// needsPull reports whether a deploy of req must pull its image first:
// asked to (--pull), or the engine lacks it.
func (o *Orchestrator) needsPull(ctx context.Context, req jack.DeployRequest) (bool, error) {
	if req.Version != "" || req.Image == "" {
		return false, nil
	}
	if req.Pull {
		return true, nil
	}
	_, err := o.runtime.InspectImage(ctx, req.Image)
	switch jack.ErrorCode(err) {
	case "":
		return false, nil
	case jack.ENOTFOUND:
		return true, nil
	}
	return false, err
}

// beginWithPull starts a deployment that pulls its image before it has a
// release: the deployment is recorded at once (so that `jack deploy` shows
// the pull's progress as steps); in the background the image is pulled,
// the version and the release are made, and the release is rolled out. A
// pull that fails fails the deployment with the registry's reason and
// changes nothing else.
func (o *Orchestrator) beginWithPull(ctx context.Context, env *jack.Environment, req jack.DeployRequest) (*jack.Deployment, error) {
	opts := runOpts{timeout: req.Timeout, release: req.ReleaseOptions()}
	return o.beginPrepared(ctx, env, jack.KindDeploy, func(ctx context.Context, p *progress) (*jack.Release, *jack.Version, error) {
		if req.Timeout == 0 {
			var cancel context.CancelFunc
			ctx, cancel = context.WithTimeout(ctx, pullTimeout)
			defer cancel()
		}
		pulled, err := o.pull(ctx, req.Image, p)
		if err != nil {
			return nil, nil, err
		}
		v, err := o.version(ctx, env.AppID, req, &pulled)
		if err != nil {
			return nil, nil, err
		}
		rel := &jack.Release{
			EnvID: env.ID, VersionID: v.ID, Version: v.Label,
			Config: env.Config, Scale: env.Scale, Strategy: req.Strategy,
			Description: "Deploy " + v.Label,
		}
		return rel, v, nil
	}, opts)
}

// pull pulls an image with the credentials stored for its registry,
// recording its progress as steps, and returns it.
func (o *Orchestrator) pull(ctx context.Context, ref string, p *progress) (jack.ImageInfo, error) {
	auth, err := o.registryAuth(ctx, ref)
	if err != nil {
		return jack.ImageInfo{}, err
	}
	who := "anonymously"
	if auth != nil {
		who = "as " + auth.Username
	}
	p.step("Pulling %s (%s)", ref, who)
	start := o.now()
	last := start
	var seen jack.PullProgress
	info, err := o.runtime.PullImage(ctx, ref, auth, func(pp jack.PullProgress) {
		seen = pp
		if now := o.now(); now.Sub(last) >= pullStepEvery {
			last = now
			p.step("Pulling %s: %d of %d layers, %s of %s", ref, pp.Done, pp.Layers, mb(pp.Downloaded), mb(pp.Total))
		}
	})
	if err != nil {
		return jack.ImageInfo{}, err
	}
	p.step("Pulled %s in %.1fs: %d layers, %s downloaded; pinned to %s", ref, o.now().Sub(start).Seconds(), seen.Layers, mb(seen.Downloaded), firstOf(info.Digest, info.ID))
	return info, nil
}

// ensureImage makes sure the engine has a version's image before a
// deployment uses it: an image the engine lost (pruned) is pulled again by
// the digest the version was pinned to, so that it is the very same.
func (o *Orchestrator) ensureImage(ctx context.Context, v *jack.Version, p *progress) error {
	if v.Digest == "" {
		return nil // built here: nothing to pull it from
	}
	_, err := o.runtime.InspectImage(ctx, v.ImageID)
	if jack.ErrorCode(err) != jack.ENOTFOUND {
		return err
	}
	_, err = o.pull(ctx, v.Digest, p)
	return err
}

// registryAuth returns the credentials stored for the registry of ref;
// nil when none are (the pull goes anonymously).
func (o *Orchestrator) registryAuth(ctx context.Context, ref string) (*jack.RegistryAuth, error) {
	named, err := reference.ParseNormalizedNamed(ref)
	if err != nil {
		return nil, jack.Errorf(jack.EINVALID, "image reference %s does not parse: %v", ref, err)
	}
	host := reference.Domain(named)
	if o.extraAuth != nil {
		if auth := o.extraAuth(host); auth != nil {
			return auth, nil
		}
	}
	auth, err := o.store.FindRegistry(ctx, host)
	if jack.ErrorCode(err) == jack.ENOTFOUND {
		return nil, nil
	}
	return auth, err
}

// mb formats a size in megabytes, as pulls are told.
func mb(n int64) string { return fmt.Sprintf("%.1f MB", float64(n)/1e6) }
