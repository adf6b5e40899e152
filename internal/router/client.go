package router

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"

	"github.com/jack-paas/jack"
)

// Client drives a router process over its control socket. It implements
// jack.Router for the daemon. When the router does not answer, its methods
// return a *jack.Error EUNAVAILABLE.
type Client struct {
	socket string
	http   *http.Client
}

var _ jack.Router = (*Client)(nil)

// NewClient returns a client of the router listening on socketPath (see
// SocketPath). It does not connect until used.
func NewClient(socketPath string) *Client {
	dialer := &net.Dialer{Timeout: time.Second}
	transport := &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			return dialer.DialContext(ctx, "unix", socketPath)
		},
		MaxIdleConnsPerHost: 4,
		IdleConnTimeout:     30 * time.Second,
	}
	return &Client{socket: socketPath, http: &http.Client{Transport: transport}}
}

// SetRoutes sends the whole route table; the router saves and serves it
// before this returns. An older generation than the router's is refused
// with ECONFLICT.
func (c *Client) SetRoutes(ctx context.Context, table jack.RouteTable) error {
	return c.call(ctx, http.MethodPut, "/routes", table, nil)
}

// Routes returns the table the router serves.
func (c *Client) Routes(ctx context.Context) (jack.RouteTable, error) {
	var rt jack.RouteTable
	err := c.call(ctx, http.MethodGet, "/routes", nil, &rt)
	return rt, err
}

// Drain waits until the upstreams have no request in flight, or until
// timeout, when the router cuts the remaining ones.
func (c *Client) Drain(ctx context.Context, upstreamIDs []string, timeout time.Duration) (jack.DrainResult, error) {
	var result jack.DrainResult
	req := drainRequest{IDs: upstreamIDs, Timeout: timeout.String()}
	err := c.call(ctx, http.MethodPost, "/drain", req, &result)
	return result, err
}

// Status returns what the router says about itself.
func (c *Client) Status(ctx context.Context) (Status, error) {
	var st Status
	err := c.call(ctx, http.MethodGet, "/status", nil, &st)
	return st, err
}

// Metrics returns the router's counters.
func (c *Client) Metrics(ctx context.Context) (Metrics, error) {
	var m Metrics
	err := c.call(ctx, http.MethodGet, "/metrics", nil, &m)
	return m, err
}

// Shutdown asks the router to stop gracefully: it stops accepting, lets the
// requests in flight finish, and exits. It returns once the router accepted.
func (c *Client) Shutdown(ctx context.Context) error {
	return c.call(ctx, http.MethodPost, "/shutdown", nil, nil)
}

// Close closes the client's idle connections.
func (c *Client) Close() {
	c.http.CloseIdleConnections()
}

// call sends one control request and decodes its response into out.
func (c *Client) call(ctx context.Context, method, path string, in, out any) error {
	var body io.Reader
	if in != nil {
		data, err := json.Marshal(in)
		if err != nil {
			return fmt.Errorf("encode %s %s: %w", method, path, err)
		}
		body = bytes.NewReader(data)
	}
	req, err := http.NewRequestWithContext(ctx, method, "http://router"+path, body)
	if err != nil {
		return fmt.Errorf("build %s %s: %w", method, path, err)
	}
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.http.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return fmt.Errorf("%s %s on the router: %w", method, path, ctx.Err())
		}
		return jack.Errorf(jack.EUNAVAILABLE, "the router does not answer on %s (%v); the daemon restarts it, or run `jack router`", c.socket, rootCause(err))
	}
	defer resp.Body.Close()
	if resp.StatusCode >= 300 {
		var eb errorBody
		if err := json.NewDecoder(resp.Body).Decode(&eb); err != nil || eb.Code == "" {
			return jack.Errorf(jack.EINTERNAL, "the router answered %s to %s %s", resp.Status, method, path)
		}
		return &jack.Error{Code: eb.Code, Message: eb.Message}
	}
	if out == nil {
		io.Copy(io.Discard, resp.Body)
		return nil
	}
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		return fmt.Errorf("decode the router's answer to %s %s: %w", method, path, err)
	}
	return nil
}

// rootCause strips the url.Error and net.OpError wrapping of an error down
// to what happened ("connect: no such file or directory").
func rootCause(err error) error {
	for {
		next := errors.Unwrap(err)
		if next == nil || errors.Unwrap(next) == nil {
			return err
		}
		err = next
	}
}
