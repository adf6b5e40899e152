package client

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/jack-paas/jack"
	"github.com/jack-paas/jack/internal/httpapi"
)

type (
	// AddHookRequest is what adding a webhook takes.
	AddHookRequest = httpapi.AddHookRequest
	// HookView is a webhook in a listing: no secret, its last delivery.
	HookView = httpapi.HookView
)

// EnvHealth returns an environment's health with its causes and instances.
func (c *Client) EnvHealth(ctx context.Context, app, env string) (*jack.Health, error) {
	var h jack.Health
	if err := c.do(ctx, http.MethodGet, envPath(app, env, "health"), nil, &h); err != nil {
		return nil, err
	}
	return &h, nil
}

// Rollups returns an environment's minute rollups of the last since (at
// most 24h); process "" for the environment's, "*" for every process's.
func (c *Client) Rollups(ctx context.Context, app, env, process string, since time.Duration) ([]*jack.Rollup, error) {
	q := url.Values{"since": {since.String()}}
	if process != "" {
		q.Set("process", process)
	}
	var out []*jack.Rollup
	err := c.do(ctx, http.MethodGet, envPath(app, env, "metrics")+"?"+q.Encode(), nil, &out)
	return out, err
}

// AddHook adds a webhook to an environment and returns it with its secret,
// which no later answer shows.
func (c *Client) AddHook(ctx context.Context, app, env string, req AddHookRequest) (*jack.Hook, error) {
	var h jack.Hook
	if err := c.do(ctx, http.MethodPost, envPath(app, env, "hooks"), req, &h); err != nil {
		return nil, err
	}
	return &h, nil
}

// ListHooks returns an environment's webhooks.
func (c *Client) ListHooks(ctx context.Context, app, env string) ([]*HookView, error) {
	var out []*HookView
	err := c.do(ctx, http.MethodGet, envPath(app, env, "hooks"), nil, &out)
	return out, err
}

// RemoveHook removes a webhook by ID.
func (c *Client) RemoveHook(ctx context.Context, app, env string, id int64) error {
	return c.do(ctx, http.MethodDelete, envPath(app, env, "hooks", strconv.FormatInt(id, 10)), nil, nil)
}

// ListDeliveries returns the newest deliveries of an environment's hooks.
func (c *Client) ListDeliveries(ctx context.Context, app, env string, limit int) ([]*jack.Delivery, error) {
	var out []*jack.Delivery
	err := c.do(ctx, http.MethodGet, envPath(app, env, "deliveries")+"?limit="+strconv.Itoa(limit), nil, &out)
	return out, err
}
