package client

import (
	"context"
	"net/http"

	"github.com/jack-paas/jack"
	"github.com/jack-paas/jack/internal/httpapi"
)

// CreateApp creates an app. ECONFLICT if the name is taken.
func (c *Client) CreateApp(ctx context.Context, name string) (*jack.App, error) {
	var app jack.App
	if err := c.do(ctx, http.MethodPost, path("apps"), httpapi.CreateAppRequest{Name: name}, &app); err != nil {
		return nil, err
	}
	return &app, nil
}

// ListApps returns every app, by name.
func (c *Client) ListApps(ctx context.Context) ([]*jack.App, error) {
	var apps []*jack.App
	err := c.do(ctx, http.MethodGet, path("apps"), nil, &apps)
	return apps, err
}

// FindApp returns an app by name. ENOTFOUND if there is none.
func (c *Client) FindApp(ctx context.Context, name string) (*jack.App, error) {
	var app jack.App
	if err := c.do(ctx, http.MethodGet, path("apps", name), nil, &app); err != nil {
		return nil, err
	}
	return &app, nil
}

// DeleteApp deletes an app with its versions. ECONFLICT while it has
// environments.
func (c *Client) DeleteApp(ctx context.Context, name string) error {
	return c.do(ctx, http.MethodDelete, path("apps", name), nil, nil)
}

// ListVersions returns an app's versions, newest first.
func (c *Client) ListVersions(ctx context.Context, app string) ([]*jack.Version, error) {
	var versions []*jack.Version
	err := c.do(ctx, http.MethodGet, path("apps", app, "versions"), nil, &versions)
	return versions, err
}
