package client

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"

	"github.com/jack-paas/jack"
	"github.com/jack-paas/jack/internal/httpapi"
)

// maxLine is the longest line of a stream the client reads: a deployment
// with its steps and output fits comfortably.
const maxLine = 4 << 20

// stream GETs an NDJSON endpoint and calls fn with each line until the
// stream ends, fn fails, or ctx ends.
func (c *Client) stream(ctx context.Context, p string, fn func(line []byte) error) error {
	resp, err := c.send(ctx, http.MethodGet, p, nil)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	scanner := bufio.NewScanner(resp.Body)
	scanner.Buffer(make([]byte, 64<<10), maxLine)
	for scanner.Scan() {
		line := bytes.TrimSpace(scanner.Bytes())
		if len(line) == 0 {
			continue
		}
		if err := fn(line); err != nil {
			return err
		}
	}
	if ctx.Err() != nil {
		return ctx.Err()
	}
	if err := scanner.Err(); err != nil {
		return jack.Errorf(jack.EUNAVAILABLE, "lost the stream from the Jack API at %s: %v", c.BaseURL, err)
	}
	return nil
}

// decodeLine decodes one stream line into v, or returns the error the line
// carries when the server ended the stream with one.
func decodeLine(line []byte, v any) error {
	if bytes.HasPrefix(line, []byte(`{"error":`)) {
		var e httpapi.ErrorResponse
		if err := json.Unmarshal(line, &e); err == nil && e.Error.Code != "" {
			return &jack.Error{Code: e.Error.Code, Message: e.Error.Message}
		}
	}
	if err := json.Unmarshal(line, v); err != nil {
		return fmt.Errorf("decode stream line: %w", err)
	}
	return nil
}

// Events returns an environment's events with an ID above after, oldest
// first, at most limit (0: the server's default); after 0 gives the last
// ones.
func (c *Client) Events(ctx context.Context, app, env string, after int64, limit int) ([]*jack.Event, error) {
	p := envPath(app, env, "events") + "?after=" + strconv.FormatInt(after, 10)
	if limit > 0 {
		p += "&limit=" + strconv.Itoa(limit)
	}
	var events []*jack.Event
	err := c.do(ctx, http.MethodGet, p, nil, &events)
	return events, err
}

// FollowEvents calls fn with each event above after (after 0: starting
// with the last few) as it is stored, until ctx ends, when it returns
// ctx's error.
func (c *Client) FollowEvents(ctx context.Context, app, env string, after int64, fn func(*jack.Event)) error {
	p := envPath(app, env, "events") + "?follow=1&after=" + strconv.FormatInt(after, 10)
	err := c.stream(ctx, p, func(line []byte) error {
		var e jack.Event
		if err := decodeLine(line, &e); err != nil {
			return err
		}
		fn(&e)
		return nil
	})
	if err == nil {
		return jack.Errorf(jack.EUNAVAILABLE, "the Jack API at %s ended the event stream; is the server stopping?", c.BaseURL)
	}
	return err
}
