package jack

import (
	"context"
	"time"
)

// Deployment states.
const (
	DeploymentPending   = "pending"
	DeploymentRunning   = "running"
	DeploymentSucceeded = "succeeded"
	DeploymentFailed    = "failed"
)

// Kinds of deployments, the value of Deployment.Kind: what moved the
// environment to a new release. The CLI words its summary by them, and
// only a deploy runs the release command when the version does not change.
const (
	KindDeploy   = "deploy"   // an image, or an existing version, deployed
	KindRollback = "rollback" // an earlier release deployed again
	KindConfig   = "config"   // config vars set or unset
	KindScale    = "scale"    // instance counts changed
	KindRestart  = "restart"  // the same release on fresh instances
)

// Deployment is the act of moving an environment to a release.
type Deployment struct {
	ID    int64  `json:"id"`
	EnvID int64  `json:"env_id"`
	Env   string `json:"env"` // "app/env", for display
	// ReleaseID and ReleaseNumber are 0 while a deployment prepares its
	// release (pulls the image it deploys); the release exists once it has.
	ReleaseID     int64 `json:"release_id"`
	ReleaseNumber int   `json:"release"`
	// FromRelease is the release that served when the deployment began.
	FromRelease int    `json:"from_release"`
	Kind        string `json:"kind"` // KindDeploy, KindRollback, ...
	State       string `json:"state"`
	Steps       []Step `json:"steps"`
	// Reason says why a failed deployment failed; Output holds the last
	// lines the failing instance wrote.
	Reason     string     `json:"reason,omitempty"`
	Output     []string   `json:"output,omitempty"`
	CreatedAt  time.Time  `json:"created_at"`
	FinishedAt *time.Time `json:"finished_at,omitempty"`
}

// Step is one line of a deployment's progress, as `jack deploy` prints it.
type Step struct {
	Time    time.Time `json:"time"`
	Message string    `json:"message"`
}

// Done reports whether the deployment has ended.
func (d *Deployment) Done() bool {
	return d.State == DeploymentSucceeded || d.State == DeploymentFailed
}

// DeploymentStore keeps deployments.
type DeploymentStore interface {
	// CreateDeployment stores a pending or running deployment. ECONFLICT if
	// the environment already has one that has not ended.
	CreateDeployment(ctx context.Context, d *Deployment) error
	// UpdateDeployment saves State, Steps, Reason, Output and FinishedAt.
	UpdateDeployment(ctx context.Context, d *Deployment) error
	// FindDeployment returns a deployment by ID. ENOTFOUND if none.
	FindDeployment(ctx context.Context, id int64) (*Deployment, error)
	// ListDeployments returns an environment's deployments, newest first, at
	// most limit of them; envID 0 means every environment, and states, when
	// given, keeps only those in one of them.
	ListDeployments(ctx context.Context, envID int64, limit int, states ...string) ([]*Deployment, error)
}
