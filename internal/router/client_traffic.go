package router

import (
	"context"
	"net/http"

	"github.com/jack-paas/jack"
)

var _ jack.RouterStats = (*Client)(nil)

// Traffic returns the router's counters of requests per environment and
// per instance since it started.
func (c *Client) Traffic(ctx context.Context) (*jack.TrafficSnapshot, error) {
	var snap jack.TrafficSnapshot
	if err := c.call(ctx, http.MethodGet, "/traffic", nil, &snap); err != nil {
		return nil, err
	}
	return &snap, nil
}
