package client

import (
	"bufio"
	"bytes"
	"context"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/jack-paas/jack"
	"github.com/jack-paas/jack/internal/httpapi"
)

// The log endpoints' request and response types.
type (
	// LogSettings is an environment's retention and what its log holds.
	LogSettings = httpapi.LogSettings
	// LogSettingsPatch changes an environment's retention.
	LogSettingsPatch = httpapi.LogSettingsPatch
)

// maxLogLine is the longest line of a log stream the client reads: a
// record of a 2 MiB line that is not UTF-8, as text and in base64.
const maxLogLine = 16 << 20

// Logs calls fn with each record q selects (q.App and q.Env name the
// environment), in the order they were collected; with q.Follow it goes on
// with new records until ctx ends, then returns ctx's error. With q.N 0 and
// no time range the server sends its default number of last lines.
func (c *Client) Logs(ctx context.Context, q jack.LogQuery, fn func(*jack.LogRecord) error) error {
	v := url.Values{}
	for name, value := range map[string]string{"process": q.Process, "instance": q.Instance, "grep": q.Grep} {
		if value != "" {
			v.Set(name, value)
		}
	}
	if !q.Since.IsZero() {
		v.Set("since", q.Since.UTC().Format(time.RFC3339Nano))
	}
	if !q.Until.IsZero() {
		v.Set("until", q.Until.UTC().Format(time.RFC3339Nano))
	}
	if q.N > 0 {
		v.Set("n", strconv.Itoa(q.N))
	}
	if q.Follow {
		v.Set("follow", "1")
	}
	resp, err := c.send(ctx, http.MethodGet, envPath(q.App, q.Env, "logs")+"?"+v.Encode(), nil)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	scanner := bufio.NewScanner(resp.Body)
	scanner.Buffer(make([]byte, 64<<10), maxLogLine)
	for scanner.Scan() {
		line := bytes.TrimSpace(scanner.Bytes())
		if len(line) == 0 {
			continue
		}
		var rec jack.LogRecord
		if err := decodeLine(line, &rec); err != nil {
			return err
		}
		if err := fn(&rec); err != nil {
			return err
		}
	}
	if ctx.Err() != nil {
		return ctx.Err()
	}
	if err := scanner.Err(); err != nil {
		return jack.Errorf(jack.EUNAVAILABLE, "lost the log stream from the Jack API at %s: %v", c.BaseURL, err)
	}
	if q.Follow {
		return jack.Errorf(jack.EUNAVAILABLE, "the Jack API at %s ended the log stream; is the server stopping?", c.BaseURL)
	}
	return nil
}

// LogSettings returns an environment's retention and what its log holds.
func (c *Client) LogSettings(ctx context.Context, app, env string) (*LogSettings, error) {
	var s LogSettings
	if err := c.do(ctx, http.MethodGet, envPath(app, env, "logs", "settings"), nil, &s); err != nil {
		return nil, err
	}
	return &s, nil
}

// SetLogSettings changes an environment's retention; empty fields stay.
func (c *Client) SetLogSettings(ctx context.Context, app, env string, patch LogSettingsPatch) (*LogSettings, error) {
	var s LogSettings
	if err := c.do(ctx, http.MethodPatch, envPath(app, env, "logs", "settings"), patch, &s); err != nil {
		return nil, err
	}
	return &s, nil
}

// AddDrain forwards an environment's new log records to a syslog or HTTPS
// endpoint. EINVALID for a URL the server can't use.
func (c *Client) AddDrain(ctx context.Context, app, env, drainURL string) (*jack.DrainStatus, error) {
	var d jack.DrainStatus
	if err := c.do(ctx, http.MethodPost, envPath(app, env, "drains"), httpapi.AddDrainRequest{URL: drainURL}, &d); err != nil {
		return nil, err
	}
	return &d, nil
}

// Drains returns an environment's drains and how each is doing.
func (c *Client) Drains(ctx context.Context, app, env string) ([]*jack.DrainStatus, error) {
	var out []*jack.DrainStatus
	err := c.do(ctx, http.MethodGet, envPath(app, env, "drains"), nil, &out)
	return out, err
}

// RemoveDrain removes an environment's drain by its URL.
func (c *Client) RemoveDrain(ctx context.Context, app, env, drainURL string) error {
	return c.do(ctx, http.MethodDelete, envPath(app, env, "drains")+"?url="+url.QueryEscape(drainURL), nil, nil)
}
