package client

import (
	"context"
	"net/http"
	"strconv"

	"github.com/jack-paas/jack"
	"github.com/jack-paas/jack/internal/httpapi"
)

// Deploy starts deploying req.Image or req.Version to req.App/req.Env and
// returns the deployment running; FollowDeployment waits for it.
func (c *Client) Deploy(ctx context.Context, req jack.DeployRequest) (*jack.Deployment, error) {
	var d jack.Deployment
	if err := c.do(ctx, http.MethodPost, envPath(req.App, req.Env, "deploys"), req, &d); err != nil {
		return nil, err
	}
	return &d, nil
}

// Rollback starts deploying a copy of release to (0: the one that served
// before the current one); opts skip or force the release command, which
// otherwise runs only when the version changes.
func (c *Client) Rollback(ctx context.Context, app, env string, to int, opts jack.ReleaseOptions) (*jack.Deployment, error) {
	var d jack.Deployment
	if err := c.do(ctx, http.MethodPost, envPath(app, env, "rollback"), httpapi.RollbackRequest{To: to, ReleaseOptions: opts}, &d); err != nil {
		return nil, err
	}
	return &d, nil
}

// Scale sets the instance count of processes. The deployment is nil when
// nothing runs yet and the change was only stored.
func (c *Client) Scale(ctx context.Context, app, env string, scale map[string]int) (*jack.Deployment, error) {
	var out httpapi.ChangeResponse
	if err := c.do(ctx, http.MethodPost, envPath(app, env, "scale"), scale, &out); err != nil {
		return nil, err
	}
	return out.Deployment, nil
}

// Restart replaces every instance of process ("" for all) with a fresh one.
func (c *Client) Restart(ctx context.Context, app, env, process string) (*jack.Deployment, error) {
	var d jack.Deployment
	if err := c.do(ctx, http.MethodPost, envPath(app, env, "restart"), httpapi.RestartRequest{Process: process}, &d); err != nil {
		return nil, err
	}
	return &d, nil
}

// FindDeployment returns a deployment by ID.
func (c *Client) FindDeployment(ctx context.Context, id int64) (*jack.Deployment, error) {
	var d jack.Deployment
	if err := c.do(ctx, http.MethodGet, path("deployments", strconv.FormatInt(id, 10)), nil, &d); err != nil {
		return nil, err
	}
	return &d, nil
}

// ListDeployments returns an environment's deployments, newest first, at
// most limit (0: the server's default).
func (c *Client) ListDeployments(ctx context.Context, app, env string, limit int) ([]*jack.Deployment, error) {
	p := envPath(app, env, "deployments")
	if limit > 0 {
		p += "?limit=" + strconv.Itoa(limit)
	}
	var deployments []*jack.Deployment
	err := c.do(ctx, http.MethodGet, p, nil, &deployments)
	return deployments, err
}

// FollowDeployment calls fn with the deployment each time it changes and
// returns it once it is done. It returns ctx's error if ctx ends first.
func (c *Client) FollowDeployment(ctx context.Context, id int64, fn func(*jack.Deployment)) (*jack.Deployment, error) {
	var last *jack.Deployment
	err := c.stream(ctx, path("deployments", strconv.FormatInt(id, 10))+"?follow=1", func(line []byte) error {
		var d jack.Deployment
		if err := decodeLine(line, &d); err != nil {
			return err
		}
		last = &d
		if fn != nil {
			fn(&d)
		}
		return nil
	})
	if err != nil {
		return last, err
	}
	if last == nil || !last.Done() {
		return last, jack.Errorf(jack.EUNAVAILABLE, "the API ended the stream of deployment %d before it finished; see `jack events`", id)
	}
	return last, nil
}
