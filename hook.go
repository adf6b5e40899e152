package jack

import (
	"context"
	"net/url"
	"time"
)

// Events a webhook is told of.
const (
	HookDeployStarted    = "deploy.started"
	HookDeploySucceeded  = "deploy.succeeded"
	HookDeployFailed     = "deploy.failed"
	HookDeployRolledBack = "deploy.rolled_back" // a rollback served, or a failed deploy was undone
	HookHealthChanged    = "health.changed"
)

// Hook is a webhook of an environment: every event above is POSTed to URL
// as JSON, signed with Secret.
type Hook struct {
	ID        int64     `json:"id"`
	EnvID     int64     `json:"env_id"`
	URL       string    `json:"url"`
	Secret    string    `json:"secret,omitempty"` // shown once, when the hook is added
	CreatedAt time.Time `json:"created_at"`
}

// ValidateHookURL checks a webhook's URL: absolute http or https with a
// host.
func ValidateHookURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return Errorf(EINVALID, "webhook URL %q is not an http(s) URL; give one like https://hooks.example.com/jack", raw)
	}
	if u.User != nil {
		return Errorf(EINVALID, "webhook URL %q carries a user name or password; put secrets in the path or rely on the signature", raw)
	}
	return nil
}

// Delivery states.
const (
	DeliveryPending   = "pending"   // not yet delivered; retried after NextAttempt
	DeliveryDelivered = "delivered" // the receiver answered 2xx
	DeliveryFailed    = "failed"    // given up
)

// Delivery is one event sent (or being sent) to one hook.
type Delivery struct {
	ID          int64      `json:"id"`
	HookID      int64      `json:"hook_id"`
	EnvID       int64      `json:"env_id"`
	URL         string     `json:"url"`
	Event       string     `json:"event"`
	Payload     string     `json:"payload"` // the JSON body, as sent
	State       string     `json:"state"`
	Attempts    int        `json:"attempts"`
	StatusCode  int        `json:"status_code,omitempty"` // of the last attempt
	Error       string     `json:"error,omitempty"`       // of the last attempt
	CreatedAt   time.Time  `json:"created_at"`
	NextAttempt time.Time  `json:"next_attempt"`
	DoneAt      *time.Time `json:"done_at,omitempty"`
}

// HookStore keeps webhooks and their deliveries.
type HookStore interface {
	// CreateHook stores a hook and sets its ID. ECONFLICT if the
	// environment has one with that URL.
	CreateHook(ctx context.Context, h *Hook) error
	// ListHooks returns an environment's hooks, oldest first.
	ListHooks(ctx context.Context, envID int64) ([]*Hook, error)
	// DeleteHook removes a hook. ENOTFOUND if the environment has none
	// with that ID.
	DeleteHook(ctx context.Context, envID, id int64) error
	// CreateDelivery stores a delivery and sets its ID.
	CreateDelivery(ctx context.Context, d *Delivery) error
	// UpdateDelivery saves State, Attempts, StatusCode, Error, NextAttempt
	// and DoneAt.
	UpdateDelivery(ctx context.Context, d *Delivery) error
	// DueDeliveries returns pending deliveries whose NextAttempt is not
	// after t, oldest first, at most limit.
	DueDeliveries(ctx context.Context, t time.Time, limit int) ([]*Delivery, error)
	// NextDelivery returns when the earliest pending delivery is due; zero
	// when none is pending.
	NextDelivery(ctx context.Context) (time.Time, error)
	// ListDeliveries returns an environment's deliveries, newest first, at
	// most limit.
	ListDeliveries(ctx context.Context, envID int64, limit int) ([]*Delivery, error)
}

// DeployNotice tells that a deployment started or ended, for notifications.
type DeployNotice struct {
	Event      string // one of HookDeploy*
	Env        *Environment
	Deployment *Deployment
}
