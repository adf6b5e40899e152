package client

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"

	"github.com/jack-paas/jack"
	"github.com/jack-paas/jack/internal/httpapi"
)

// RunExit is how a one-off run ended.
type RunExit = httpapi.RunExit

// RunStreams are the local ends of a run: its input, its output, the
// terminal's size as it changes, and Ctrl-C.
type RunStreams struct {
	Stdin          io.Reader // nil: no input
	Stdout, Stderr io.Writer
	Resize         <-chan jack.TermSize
	// Stop asks the server to stop the container (Ctrl-C); the run then
	// ends with the exit code the container had.
	Stop <-chan struct{}
}

// Run runs a one-off command of an environment's current release and
// streams it over an upgraded connection until it exits. It returns the
// stored run, whose ExitCode is the command's.
func (c *Client) Run(ctx context.Context, req jack.RunRequest, streams RunStreams) (*jack.Run, error) {
	body, err := json.Marshal(req)
	if err != nil {
		return nil, fmt.Errorf("encode run request: %w", err)
	}
	p := envPath(req.App, req.Env, "runs")
	hreq, err := http.NewRequestWithContext(ctx, http.MethodPost, c.BaseURL+p, bytes.NewReader(body))
	if err != nil {
		return nil, jack.Errorf(jack.EINVALID, "API address %q is not a URL; set JACK_API to one like http://127.0.0.1:7070", c.BaseURL)
	}
	hreq.Header.Set("Content-Type", "application/json")
	hreq.Header.Set("Connection", "Upgrade")
	hreq.Header.Set("Upgrade", httpapi.RunUpgrade)
	if c.Token != "" {
		hreq.Header.Set("Authorization", "Bearer "+c.Token)
	}
	hc := c.HTTPClient
	if hc == nil {
		hc = http.DefaultClient
	}
	resp, err := hc.Do(hreq)
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, jack.Errorf(jack.EUNAVAILABLE, "cannot reach the Jack API at %s (%v); start `jack server` or set JACK_API", c.BaseURL, unwrapURLError(err))
	}
	defer resp.Body.Close()
	switch {
	case resp.StatusCode/100 != 1 && resp.StatusCode/100 != 2:
		return nil, responseError(resp)
	case resp.StatusCode != http.StatusSwitchingProtocols:
		var exit RunExit
		if err := json.NewDecoder(resp.Body).Decode(&exit); err != nil {
			return nil, fmt.Errorf("decode run answer: %w", err)
		}
		return exit.Run, nil
	}
	conn, ok := resp.Body.(io.ReadWriteCloser)
	if !ok {
		return nil, fmt.Errorf("the API's answer to a run can't be written to")
	}
	return runStream(ctx, conn, streams)
}

// runStream sends input, sizes and Ctrl-C as frames and writes the output
// frames until the exit frame.
func runStream(ctx context.Context, conn io.ReadWriteCloser, streams RunStreams) (*jack.Run, error) {
	frames := httpapi.NewFrameWriter(conn)
	done := make(chan struct{})
	defer close(done)
	if streams.Stdin != nil {
		go func() {
			buf := make([]byte, 32<<10)
			for {
				n, err := streams.Stdin.Read(buf)
				if n > 0 {
					if frames.WriteFrame(httpapi.FrameStdin, buf[:n]) != nil {
						return
					}
				}
				if err != nil {
					frames.WriteFrame(httpapi.FrameStdinClose, nil)
					return
				}
			}
		}()
	}
	go func() {
		for {
			select {
			case <-done:
				return
			case <-ctx.Done():
				frames.WriteFrame(httpapi.FrameStop, nil)
				return
			case <-streams.Stop:
				frames.WriteFrame(httpapi.FrameStop, nil)
				streams.Stop = nil
			case size, ok := <-streams.Resize:
				if !ok {
					streams.Resize = nil
					continue
				}
				b, _ := json.Marshal(size)
				frames.WriteFrame(httpapi.FrameResize, b)
			}
		}
	}()
	r := bufio.NewReader(conn)
	for {
		kind, payload, err := httpapi.ReadFrame(r)
		if err != nil {
			return nil, jack.Errorf(jack.EUNAVAILABLE, "the connection to the API broke during the run (%v); see `jack runs`", err)
		}
		switch kind {
		case httpapi.FrameStdout:
			if streams.Stdout != nil {
				streams.Stdout.Write(payload)
			}
		case httpapi.FrameStderr:
			if streams.Stderr != nil {
				streams.Stderr.Write(payload)
			}
		case httpapi.FrameExit:
			conn.Close()
			var exit RunExit
			if err := json.Unmarshal(payload, &exit); err != nil {
				return nil, fmt.Errorf("decode exit of the run: %w", err)
			}
			if exit.Error != nil {
				return exit.Run, &jack.Error{Code: exit.Error.Code, Message: exit.Error.Message}
			}
			return exit.Run, nil
		}
	}
}

// ListRuns returns an environment's runs, newest first; kind ("run",
// "cron" or "" for both) and limit (0: the server's default) narrow them.
func (c *Client) ListRuns(ctx context.Context, app, env, kind string, limit int) ([]*jack.Run, error) {
	q := url.Values{}
	if kind != "" {
		q.Set("kind", kind)
	}
	if limit > 0 {
		q.Set("limit", strconv.Itoa(limit))
	}
	p := envPath(app, env, "runs")
	if len(q) > 0 {
		p += "?" + q.Encode()
	}
	var runs []*jack.Run
	err := c.do(ctx, http.MethodGet, p, nil, &runs)
	return runs, err
}

// CronJobs returns an environment's cron jobs with their next and last runs.
func (c *Client) CronJobs(ctx context.Context, app, env string) ([]*jack.CronStatus, error) {
	var jobs []*jack.CronStatus
	err := c.do(ctx, http.MethodGet, envPath(app, env, "cron"), nil, &jobs)
	return jobs, err
}

// RunCron runs a cron job now and returns its run once it has ended.
func (c *Client) RunCron(ctx context.Context, app, env, job string) (*jack.Run, error) {
	var run jack.Run
	if err := c.do(ctx, http.MethodPost, envPath(app, env, "cron", job, "runs"), nil, &run); err != nil {
		return nil, err
	}
	return &run, nil
}

// DeleteEnvVolumes stops an environment's instances, deletes it, and
// removes its volumes.
func (c *Client) DeleteEnvVolumes(ctx context.Context, app, env string) error {
	return c.do(ctx, http.MethodDelete, envPath(app, env)+"?volumes=1", nil, nil)
}
