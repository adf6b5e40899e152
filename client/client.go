// Package client is the Go client of Jack's HTTP API, used by the jack CLI
// and by tests. Each method calls one endpoint and returns domain types;
// error answers come back as *jack.Error with the code the server gave, so
// callers switch on jack.ErrorCode wherever an error surfaced.
package client

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/jack-paas/jack"
	"github.com/jack-paas/jack/internal/httpapi"
)

// The API's own request and response types, named here so that users of
// this package can name them.
type (
	// Health is the answer of the health endpoint.
	Health = httpapi.Health
	// Env is an environment with its default URL.
	Env = httpapi.Env
	// CreateEnvRequest is what creating an environment takes.
	CreateEnvRequest = httpapi.CreateEnvRequest
	// ConfigPatch is a change of config vars.
	ConfigPatch = httpapi.ConfigPatch
	// Status is an environment at a glance.
	Status = httpapi.Status
)

// Client calls one Jack API.
type Client struct {
	// BaseURL is the API's address, such as http://127.0.0.1:7070.
	BaseURL string
	// Token is sent as "Authorization: Bearer TOKEN".
	Token string
	// HTTPClient does the requests; http.DefaultClient when nil. It must
	// have no overall timeout, since follows last as long as deployments.
	HTTPClient *http.Client
}

// New returns a client of the API at baseURL that authenticates with token.
func New(baseURL, token string) *Client {
	return &Client{BaseURL: strings.TrimSuffix(baseURL, "/"), Token: token}
}

// path joins escaped segments under /v1.
func path(segments ...string) string {
	var b strings.Builder
	b.WriteString("/v1")
	for _, s := range segments {
		b.WriteString("/")
		b.WriteString(url.PathEscape(s))
	}
	return b.String()
}

// do sends a request with in as its JSON body (none when nil) and decodes
// a successful answer into out (ignored when nil).
func (c *Client) do(ctx context.Context, method, p string, in, out any) error {
	resp, err := c.send(ctx, method, p, in)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if out == nil {
		_, _ = io.Copy(io.Discard, resp.Body)
		return nil
	}
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		return fmt.Errorf("decode answer of %s %s: %w", method, p, err)
	}
	return nil
}

// send sends a request and returns the response if its status is 2xx, or
// the error its body describes.
func (c *Client) send(ctx context.Context, method, p string, in any) (*http.Response, error) {
	var body io.Reader
	if in != nil {
		buf, err := json.Marshal(in)
		if err != nil {
			return nil, fmt.Errorf("encode request %s %s: %w", method, p, err)
		}
		body = bytes.NewReader(buf)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.BaseURL+p, body)
	if err != nil {
		return nil, jack.Errorf(jack.EINVALID, "API address %q is not a URL; set JACK_API to one like http://127.0.0.1:7070", c.BaseURL)
	}
	req.Header.Set("Accept", "application/json")
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.Token != "" {
		req.Header.Set("Authorization", "Bearer "+c.Token)
	}
	hc := c.HTTPClient
	if hc == nil {
		hc = http.DefaultClient
	}
	resp, err := hc.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, jack.Errorf(jack.EUNAVAILABLE, "cannot reach the Jack API at %s (%v); start `jack server` or set JACK_API", c.BaseURL, unwrapURLError(err))
	}
	if resp.StatusCode/100 != 2 {
		defer resp.Body.Close()
		return nil, responseError(resp)
	}
	return resp, nil
}

// unwrapURLError drops the "Get URL:" prefix that net/http adds, since the
// message names the API already.
func unwrapURLError(err error) error {
	var uerr *url.Error
	if errors.As(err, &uerr) {
		return uerr.Err
	}
	return err
}

// responseError turns an error answer back into a *jack.Error with the
// code the server sent; an answer without one (a proxy's, say) gets the
// code of its status and its text as the message.
func responseError(resp *http.Response) error {
	buf, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if err != nil {
		return jack.Errorf(httpapi.FromErrorStatusCode(resp.StatusCode), "read error answer (%s): %v", resp.Status, err)
	}
	var body httpapi.ErrorResponse
	if err := json.Unmarshal(buf, &body); err == nil && body.Error.Code != "" {
		return &jack.Error{Code: body.Error.Code, Message: body.Error.Message}
	}
	message := strings.TrimSpace(string(buf))
	if message == "" {
		message = resp.Status
	}
	return jack.Errorf(httpapi.FromErrorStatusCode(resp.StatusCode), "API answered %s: %s", resp.Status, message)
}

// Health returns whether the API is up, and its version. It needs no token.
func (c *Client) Health(ctx context.Context) (*Health, error) {
	var h Health
	if err := c.do(ctx, http.MethodGet, path("health"), nil, &h); err != nil {
		return nil, err
	}
	return &h, nil
}
