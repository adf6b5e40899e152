package jack

import (
	"context"
	"time"
)

// Tiers of an environment. A web environment gets HTTP traffic through the
// router; a worker environment runs its processes without a route.
const (
	TierWeb    = "web"
	TierWorker = "worker"
)

// Environment is one running copy of an app, such as notes/production.
//
// Config and Scale are what the environment runs now: a release snapshots
// them, and they change only when a deployment of a new release succeeds (or
// at once while nothing has been deployed), so a failed deploy leaves them as
// they were.
type Environment struct {
	ID       int64    `json:"id"`
	AppID    int64    `json:"app_id"`
	App      string   `json:"app"`
	Name     string   `json:"name"`
	Tier     string   `json:"tier"`
	Domains  []string `json:"domains"`
	Strategy string   `json:"strategy,omitempty"` // overrides the manifest's deploy strategy when set
	// Edge says how the router treats the environment's traffic.
	Edge EdgeSettings `json:"edge"`

	Config map[string]string `json:"-"`     // never listed unmasked
	Scale  map[string]int    `json:"scale"` // instances per process set with `jack scale`

	// Release is the number of the release that serves, 0 before the first
	// successful deployment.
	Release int `json:"release"`
	// DeployOnPush is the tag whose push to Jack's registry deploys the
	// environment ("" for none).
	DeployOnPush string `json:"deploy_on_push,omitempty"`

	CreatedAt time.Time `json:"created_at"`
}

// Ref returns "app/env".
func (e *Environment) Ref() string { return e.App + "/" + e.Name }

// Validate reports whether the environment can be stored.
func (e *Environment) Validate() error {
	if err := ValidateName("environment", e.Name); err != nil {
		return err
	}
	switch e.Tier {
	case TierWeb, TierWorker:
	default:
		return Errorf(EINVALID, "tier %q is not known; use web or worker", e.Tier)
	}
	if e.Strategy != "" {
		if err := ValidateStrategy(e.Strategy); err != nil {
			return err
		}
	}
	for _, d := range e.Domains {
		if err := ValidateDomain(d); err != nil {
			return err
		}
	}
	return e.Edge.Validate()
}

// EnvStore keeps environments.
type EnvStore interface {
	// CreateEnv stores a new environment of env.AppID and sets its ID.
	// ECONFLICT if the app already has one of that name, or a domain is taken.
	CreateEnv(ctx context.Context, env *Environment) error
	// FindEnv returns an environment by app and environment name. ENOTFOUND
	// names which of the two is missing.
	FindEnv(ctx context.Context, app, name string) (*Environment, error)
	// ListEnvs returns the environments of an app, or of every app when app is "".
	ListEnvs(ctx context.Context, app string) ([]*Environment, error)
	// UpdateEnv saves Tier, Strategy, Config, Scale and Release. Domains
	// and edge settings change through EdgeStore only.
	UpdateEnv(ctx context.Context, env *Environment) error
	// SetDeployOnPush sets the tag whose push deploys the environment (""
	// for none). ENOTFOUND if the environment is gone.
	SetDeployOnPush(ctx context.Context, envID int64, tag string) error
	// DeleteEnv removes an environment with its releases, deployments and events.
	DeleteEnv(ctx context.Context, id int64) error
}
