package jack

import (
	"context"
	"time"
)

// Release is a version + a config snapshot + the scale, numbered per
// environment. Every deploy, config change, scale change and rollback makes
// a new one; nothing rewrites an old one.
type Release struct {
	ID          int64             `json:"id"`
	EnvID       int64             `json:"env_id"`
	Number      int               `json:"number"`
	VersionID   int64             `json:"version_id"`
	Version     string            `json:"version"` // the version's label, for display
	Config      map[string]string `json:"-"`
	Scale       map[string]int    `json:"scale"`
	Strategy    string            `json:"strategy,omitempty"` // chosen for this release's deploy, else the manifest's
	Description string            `json:"description"`        // "Deploy v2", "Rollback to 3", "Set SECRET_KEY"
	// State is the state of the deployment that rolled it out, filled in by
	// listings: a failed release never served.
	State     string    `json:"state,omitempty"`
	CreatedAt time.Time `json:"created_at"`
}

// ReleaseStore keeps releases.
type ReleaseStore interface {
	// CreateRelease stores a release, numbering it after the environment's
	// newest one.
	CreateRelease(ctx context.Context, r *Release) error
	// FindRelease returns an environment's release by number. ENOTFOUND if none.
	FindRelease(ctx context.Context, envID int64, number int) (*Release, error)
	// ListReleases returns an environment's releases, newest first, with the
	// state of the deployment that rolled each out.
	ListReleases(ctx context.Context, envID int64) ([]*Release, error)
}
