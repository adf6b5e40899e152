package client

import (
	"context"
	"net/http"
	"net/url"

	"github.com/jack-paas/jack"
	"github.com/jack-paas/jack/internal/httpapi"
)

// Registries returns the registries Jack has credentials for, without
// their passwords.
func (c *Client) Registries(ctx context.Context) ([]*jack.RegistryAuth, error) {
	var out []*jack.RegistryAuth
	if err := c.do(ctx, http.MethodGet, "/v1/registries", nil, &out); err != nil {
		return nil, err
	}
	return out, nil
}

// AddRegistry has the server check credentials with their registry and
// keep them for pulls.
func (c *Client) AddRegistry(ctx context.Context, host, username, password string) (*jack.RegistryAuth, error) {
	var out jack.RegistryAuth
	req := httpapi.AddRegistryRequest{Host: host, Username: username, Password: password}
	if err := c.do(ctx, http.MethodPost, "/v1/registries", req, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// RemoveRegistry forgets a registry's credentials.
func (c *Client) RemoveRegistry(ctx context.Context, host string) error {
	return c.do(ctx, http.MethodDelete, "/v1/registries/"+url.PathEscape(host), nil, nil)
}

// SetDeployOnPush sets the tag whose push to Jack's registry deploys an
// environment; "" turns it off.
func (c *Client) SetDeployOnPush(ctx context.Context, app, env, tag string) (*jack.Environment, error) {
	var out jack.Environment
	if err := c.do(ctx, http.MethodPut, envPath(app, env, "deploy-on-push"), httpapi.DeployOnPushRequest{Tag: tag}, &out); err != nil {
		return nil, err
	}
	return &out, nil
}
