package client

import (
	"context"
	"net/http"

	"github.com/jack-paas/jack"
)

// envPath returns the path of an environment's endpoint.
func envPath(app, env string, rest ...string) string {
	return path(append([]string{"apps", app, "envs", env}, rest...)...)
}

// CreateEnv creates an environment of app. ECONFLICT if the name or a
// domain is taken.
func (c *Client) CreateEnv(ctx context.Context, app string, req CreateEnvRequest) (*Env, error) {
	var env Env
	if err := c.do(ctx, http.MethodPost, path("apps", app, "envs"), req, &env); err != nil {
		return nil, err
	}
	return &env, nil
}

// ListEnvs returns the environments of app, or of every app when app is "".
func (c *Client) ListEnvs(ctx context.Context, app string) ([]*Env, error) {
	p := path("envs")
	if app != "" {
		p = path("apps", app, "envs")
	}
	var envs []*Env
	err := c.do(ctx, http.MethodGet, p, nil, &envs)
	return envs, err
}

// FindEnv returns an environment. ENOTFOUND names what is missing.
func (c *Client) FindEnv(ctx context.Context, app, env string) (*Env, error) {
	var e Env
	if err := c.do(ctx, http.MethodGet, envPath(app, env), nil, &e); err != nil {
		return nil, err
	}
	return &e, nil
}

// DeleteEnv stops an environment's instances and deletes it.
func (c *Client) DeleteEnv(ctx context.Context, app, env string) error {
	return c.do(ctx, http.MethodDelete, envPath(app, env), nil, nil)
}

// ListReleases returns an environment's releases, newest first.
func (c *Client) ListReleases(ctx context.Context, app, env string) ([]*jack.Release, error) {
	var releases []*jack.Release
	err := c.do(ctx, http.MethodGet, envPath(app, env, "releases"), nil, &releases)
	return releases, err
}

// Instances returns an environment's instances as they are now.
func (c *Client) Instances(ctx context.Context, app, env string) ([]*jack.Instance, error) {
	var instances []*jack.Instance
	err := c.do(ctx, http.MethodGet, envPath(app, env, "instances"), nil, &instances)
	return instances, err
}

// Status returns an environment at a glance.
func (c *Client) Status(ctx context.Context, app, env string) (*Status, error) {
	var st Status
	if err := c.do(ctx, http.MethodGet, envPath(app, env, "status"), nil, &st); err != nil {
		return nil, err
	}
	return &st, nil
}
