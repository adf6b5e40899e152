package httpapi_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/jack-paas/jack"
	"github.com/jack-paas/jack/client"
	"github.com/jack-paas/jack/internal/httpapi/httpapitest"
)

// appendLogs stores records of notes/production, the n-th stamped n ms
// after at.
func appendLogs(t *testing.T, srv *httpapitest.Server, at time.Time, lines ...string) {
	t.Helper()
	var recs []*jack.LogRecord
	for i, l := range lines {
		recs = append(recs, &jack.LogRecord{
			Time: at.Add(time.Duration(i) * time.Millisecond), App: "notes", Env: "production",
			Process: "web", Instance: "web.1", Container: "abcdef012345", Release: 2, Stream: jack.StreamStdout, Line: []byte(l),
		})
	}
	if err := srv.Logs.Append(recs); err != nil {
		t.Fatal(err)
	}
}

func logLines(t *testing.T, c *client.Client, q jack.LogQuery) []string {
	t.Helper()
	q.App, q.Env = "notes", "production"
	var out []string
	if err := c.Logs(context.Background(), q, func(r *jack.LogRecord) error {
		out = append(out, string(r.Line))
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestLogsAreReadAsNDJSONOrServerSentEvents(t *testing.T) {
	srv, c := newAPI(t)
	mustEnv(t, c, "notes", "production")
	at := time.Now().Add(-time.Minute)
	appendLogs(t, srv, at, "one", "two \xff", "three")

	if got := logLines(t, c, jack.LogQuery{}); strings.Join(got, "|") != "one|two \xff|three" {
		t.Fatalf("lines %q", got)
	}
	if got := logLines(t, c, jack.LogQuery{N: 1}); len(got) != 1 || got[0] != "three" {
		t.Fatalf("last line %q", got)
	}
	if got := logLines(t, c, jack.LogQuery{Grep: "^t"}); len(got) != 2 {
		t.Fatalf("grep ^t: %q", got)
	}

	req, _ := http.NewRequest("GET", srv.URL+"/v1/apps/notes/envs/production/logs?since=1h&process=web", nil)
	req.Header.Set("Authorization", "Bearer "+httpapitest.Token)
	req.Header.Set("Accept", "text/event-stream")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); ct != "text/event-stream" {
		t.Fatalf("content type %q", ct)
	}
	var events []jack.LogRecord
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		if data, ok := strings.CutPrefix(sc.Text(), "data: "); ok {
			var r jack.LogRecord
			if err := json.Unmarshal([]byte(data), &r); err != nil {
				t.Fatalf("event %q: %v", data, err)
			}
			events = append(events, r)
		}
	}
	if len(events) != 3 || events[0].Source() != "web.1" || events[2].Release != 2 || !events[0].Time.Equal(at) {
		t.Fatalf("events %+v", events)
	}
}

func TestBadLogQueriesGetOneLineErrors(t *testing.T) {
	srv, c := newAPI(t)
	mustEnv(t, c, "notes", "production")
	base := srv.URL + "/v1/apps/notes/envs/production/logs?"
	for query, want := range map[string]string{
		"grep=" + url.QueryEscape("(a"):             "not a valid regular expression",
		"since=yesterday":                           "neither a duration nor a time",
		"since=1h&until=2h":                         "ends",
		"n=-1":                                      "non-negative",
		"follow=1&until=2025-01-01T00:00:00Z":       "don't go together",
		"follow=maybe":                              "not 1 or 0",
		"until=" + url.QueryEscape("2025-13-01"):    "neither a duration nor a time",
		"since=" + url.QueryEscape("2025-03-01 1x"): "neither",
	} {
		status, body := do(t, "GET", base+query, httpapitest.Token, "")
		e := errorBody(t, body)
		if status != 400 || e.Code != jack.EINVALID || !strings.Contains(e.Message, want) {
			t.Errorf("?%s: %d %+v; want 400 saying %q", query, status, e, want)
		}
	}
	if status, body := do(t, "GET", srv.URL+"/v1/apps/notes/envs/staging/logs", httpapitest.Token, ""); status != 404 {
		t.Errorf("logs of a missing environment: %d %s", status, body)
	}
}

func TestFollowingLogsGetsNewLines(t *testing.T) {
	srv, c := newAPI(t)
	mustEnv(t, c, "notes", "production")
	appendLogs(t, srv, time.Now(), "before")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	got := make(chan string, 10)
	done := make(chan error, 1)
	go func() {
		done <- c.Logs(ctx, jack.LogQuery{App: "notes", Env: "production", Follow: true, N: 1}, func(r *jack.LogRecord) error {
			got <- string(r.Line)
			return nil
		})
	}()
	for _, want := range []string{"before", "after"} {
		select {
		case l := <-got:
			if l != want {
				t.Fatalf("followed %q, want %q", l, want)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("no %q within 5s", want)
		}
		appendLogs(t, srv, time.Now(), "after")
	}
	cancel()
	if err := <-done; err != context.Canceled {
		t.Fatalf("follow ended with %v, want context.Canceled", err)
	}
}

func TestLogSettingsAreShownAndChanged(t *testing.T) {
	srv, c := newAPI(t)
	mustEnv(t, c, "notes", "production")
	ctx := context.Background()
	s, err := c.LogSettings(ctx, "notes", "production")
	if err != nil || s.Retention != "168h0m0s" || s.MaxBytes != 1<<30 {
		t.Fatalf("defaults %+v, %v", s, err)
	}
	s, err = c.SetLogSettings(ctx, "notes", "production", client.LogSettingsPatch{Retention: "3d"})
	if err != nil || s.Retention != "72h0m0s" || s.MaxBytes != 1<<30 {
		t.Fatalf("after setting 3d: %+v, %v", s, err)
	}
	s, _ = c.SetLogSettings(ctx, "notes", "production", client.LogSettingsPatch{MaxBytes: 500 << 20})
	if s.Retention != "72h0m0s" || s.MaxBytes != 500<<20 {
		t.Fatalf("after setting the size: %+v", s)
	}
	for body, want := range map[string]string{
		`{"retention":"10m"}`:         "out of range",
		`{"retention":"soon"}`:        "not a duration",
		`{"max_bytes":100}`:           "out of range",
		`{}`:                          "nothing to change",
		`{"retention":"3d","x":true}`: "unknown field",
	} {
		status, resp := do(t, "PATCH", srv.URL+"/v1/apps/notes/envs/production/logs/settings", httpapitest.Token, body)
		if e := errorBody(t, resp); status != 400 || !strings.Contains(e.Message, want) {
			t.Errorf("PATCH %s: %d %+v; want 400 saying %q", body, status, e, want)
		}
	}
	if s, _ := c.LogSettings(ctx, "notes", "production"); s.Retention != "72h0m0s" || s.MaxBytes != 500<<20 {
		t.Fatalf("bad input changed the settings: %+v", s)
	}
}

func TestDrainsAreAddedListedAndRemoved(t *testing.T) {
	srv, c := newAPI(t)
	mustEnv(t, c, "notes", "production")
	ctx := context.Background()
	for raw, want := range map[string]string{"ftp://x.example.com": "scheme", "syslog+tcp://": "no host"} {
		_, err := c.AddDrain(ctx, "notes", "production", raw)
		if jack.ErrorCode(err) != jack.EINVALID || !strings.Contains(err.Error(), want) {
			t.Errorf("AddDrain(%q): %v", raw, err)
		}
	}
	d, err := c.AddDrain(ctx, "notes", "production", "syslog://127.0.0.1:5514")
	if err != nil || d.URL != "syslog://127.0.0.1:5514" || d.ID == 0 {
		t.Fatalf("AddDrain: %+v, %v", d, err)
	}
	if _, err := c.AddDrain(ctx, "notes", "production", "syslog://127.0.0.1:5514"); jack.ErrorCode(err) != jack.ECONFLICT {
		t.Fatalf("the same drain twice: %v", err)
	}
	list, err := c.Drains(ctx, "notes", "production")
	if err != nil || len(list) != 1 || list[0].URL != d.URL {
		t.Fatalf("drains %+v, %v", list, err)
	}
	if err := c.RemoveDrain(ctx, "notes", "production", d.URL); err != nil {
		t.Fatal(err)
	}
	if err := c.RemoveDrain(ctx, "notes", "production", d.URL); jack.ErrorCode(err) != jack.ENOTFOUND {
		t.Fatalf("remove again: %v", err)
	}
	if status, _ := do(t, "DELETE", srv.URL+"/v1/apps/notes/envs/production/drains", httpapitest.Token, ""); status != 400 {
		t.Fatalf("remove without url: %d", status)
	}
	_ = fmt.Sprint()
}
