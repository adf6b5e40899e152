package jack

import (
	"context"
	"time"
)

// DeployRequest asks to deploy an image (making a new version) or an
// existing version to an environment.
type DeployRequest struct {
	App, Env string
	// Image is the reference of an image present on the engine; it is
	// pinned to its ID when the version is made.
	Image string `json:"image,omitempty"`
	// Version deploys an existing version by label instead of Image.
	Version string `json:"version,omitempty"`
	// Manifest is the content of the -f file, ManifestName its name.
	Manifest     string        `json:"manifest,omitempty"`
	ManifestName string        `json:"manifest_name,omitempty"`
	Label        string        `json:"label,omitempty"`
	Strategy     string        `json:"strategy,omitempty"`
	Timeout      time.Duration `json:"timeout,omitempty"`
	// SkipRelease leaves the release command out of this deploy;
	// ForceRelease runs it even where it would not run (same version).
	// Pull pulls Image even when the engine has an image of that name (a
	// tag that moved); without it, Image is pulled only when missing.
	Pull         bool `json:"pull,omitempty"`
	SkipRelease  bool `json:"skip_release,omitempty"`
	ForceRelease bool `json:"force_release,omitempty"`
}

// Validate returns an EINVALID error when the request can't be deployed as
// it is, whatever the environment holds: it names one thing to deploy and
// options that go with it. The CLI, the API and the orchestrator all check
// a request with it, so each refuses the same requests in the same words.
func (r *DeployRequest) Validate() error {
	manifest := r.Manifest != "" || r.ManifestName != ""
	switch {
	case r.Image == "" && r.Version == "" && !manifest:
		return Errorf(EINVALID, "nothing to deploy; give an image, a manifest that names one, or an existing version")
	case r.Image != "" && r.Version != "":
		return Errorf(EINVALID, "give an image or an existing version to deploy, not both")
	case r.Version != "" && manifest:
		return Errorf(EINVALID, "a version keeps the manifest it was made with; deploy an image to use a new manifest")
	case r.Version != "" && r.Label != "":
		return Errorf(EINVALID, "a label names a new version; it can't be given with an existing version")
	case r.Pull && r.Version != "":
		return Errorf(EINVALID, "a version keeps the image it was made of; deploy an image to pull it again")
	case r.Timeout < 0:
		return Errorf(EINVALID, "the deploy timeout must be positive; leave it out for the manifest's")
	}
	if r.Strategy != "" {
		if err := ValidateStrategy(r.Strategy); err != nil {
			return err
		}
	}
	return r.ReleaseOptions().Validate()
}

// ReleaseOptions returns the request's choice about the release command.
func (r *DeployRequest) ReleaseOptions() ReleaseOptions {
	return ReleaseOptions{Skip: r.SkipRelease, Force: r.ForceRelease}
}

// Orchestrator moves environments between releases with the guarantees of
// product.md: health-gated, drained, undone on failure. Each method that
// starts a deployment returns it running; WaitDeployment follows it.
// ECONFLICT while another deployment of the environment runs.
type Orchestrator interface {
	// Deploy makes (or picks) the version req names and rolls out a
	// release of it. EINVALID when req.Validate refuses it.
	Deploy(ctx context.Context, req DeployRequest) (*Deployment, error)
	// Rollback deploys a copy of release to (0: the last one that served
	// before the current one); opts decide about the release command, which
	// otherwise runs only when the version changes. EINVALID when the
	// environment has never been deployed or has nothing to roll back to.
	Rollback(ctx context.Context, app, env string, to int, opts ReleaseOptions) (*Deployment, error)
	// SetConfig sets and unsets config vars; returns a nil deployment when
	// nothing runs yet and the change was only stored.
	SetConfig(ctx context.Context, app, env string, set map[string]string, unset []string) (*Deployment, error)
	// Scale sets the instance count of processes; nil deployment as SetConfig.
	Scale(ctx context.Context, app, env string, scale map[string]int) (*Deployment, error)
	// Restart replaces every instance of process ("" for all) with a fresh one.
	Restart(ctx context.Context, app, env, process string) (*Deployment, error)
	// Instances returns an environment's instances as they are now.
	Instances(ctx context.Context, app, env string) ([]*Instance, error)
	// DeleteEnv stops an environment's instances and removes it.
	DeleteEnv(ctx context.Context, app, env string) error
	// WaitDeployment returns the deployment once it has more than seen steps
	// or has ended, or when ctx ends.
	WaitDeployment(ctx context.Context, id int64, seen int) (*Deployment, error)
}

// ReleaseOptions override whether a deployment runs the release command:
// Skip leaves it out, Force runs it even when the version does not change.
type ReleaseOptions struct {
	Skip  bool `json:"skip_release,omitempty"`
	Force bool `json:"force_release,omitempty"`
}

// Validate returns an EINVALID error when the options ask for both.
func (o ReleaseOptions) Validate() error {
	if o.Skip && o.Force {
		return Errorf(EINVALID, "the release command can't be both skipped and forced; choose one")
	}
	return nil
}
