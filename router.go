package jack

import (
	"context"
	"time"
)

// RouteTable is everything the router needs to send a request on: for each
// environment, the hosts it answers to, the instances that serve it, the
// static files of its version and its edge settings. The daemon sends the
// whole table at every change; the router swaps it in atomically and keeps
// the last one on disk, so it serves on when the daemon is down.
type RouteTable struct {
	Generation int64   `json:"generation"`
	Routes     []Route `json:"routes"`
}

// Route sends requests for Hosts to Upstreams, or serves them from Static.
type Route struct {
	Env       string     `json:"env"`   // app/env
	Hosts     []string   `json:"hosts"` // lower case; "*.example.com" matches one or more labels
	Upstreams []Upstream `json:"upstreams"`
	// Static are folders of files served under URL prefixes. Mounts with
	// the same URL are searched in order: the version that takes traffic
	// first, then, while a rollout mixes versions, the one it replaces.
	Static []StaticMount `json:"static,omitempty"`
	// Edge holds the environment's body limit, redirect and HSTS.
	Edge EdgeSettings `json:"edge,omitzero"`
}

// StaticMount serves the files under Dir at URL, a path prefix ending in /.
type StaticMount struct {
	URL string `json:"url"`
	Dir string `json:"dir"` // absolute
}

// Upstream is one healthy web instance.
type Upstream struct {
	ID   string `json:"id"`   // the instance's container ID
	Addr string `json:"addr"` // host:port
}

// DrainResult says how a drain ended.
type DrainResult struct {
	// Remaining is how many requests were still in flight at the timeout;
	// zero when every request finished.
	Remaining int `json:"remaining"`
}

// Router is the control side of the HTTP edge, as the daemon sees it.
type Router interface {
	// SetRoutes replaces the route table. Upstreams that leave it get no new
	// requests from the moment it returns.
	SetRoutes(ctx context.Context, table RouteTable) error
	// Drain waits until the given upstreams, already out of the table, have
	// no request in flight, or until timeout, when their remaining
	// connections are closed.
	Drain(ctx context.Context, upstreamIDs []string, timeout time.Duration) (DrainResult, error)
}
