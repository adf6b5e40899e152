package main

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/jack-paas/jack"
)

func TestLogsPrintsTimeSourceAndLine(t *testing.T) {
	srv := newAPI(t)
	mustRun(t, "apps", "create", "notes")
	mustRun(t, "envs", "create", "notes/production")
	at := time.Now().Add(-time.Minute).Truncate(time.Millisecond)
	err := srv.Logs.Append([]*jack.LogRecord{
		{Time: at, App: "notes", Env: "production", Process: "web", Instance: "web.1", Stream: jack.StreamStdout, Line: []byte("hello")},
		{Time: at.Add(time.Millisecond), App: "notes", Env: "production", Process: "jack", Instance: "deploy", Stream: jack.StreamEvent, Line: []byte("Deployment 1 started")},
		{Time: at.Add(2 * time.Millisecond), App: "notes", Env: "production", Process: "worker", Instance: "worker.2", Stream: jack.StreamStderr, Line: []byte("bytes \xff as written")},
	})
	if err != nil {
		t.Fatal(err)
	}
	r := mustRun(t, "logs", "notes/production")
	lines := strings.Split(strings.TrimSuffix(r.stdout, "\n"), "\n")
	want := []string{
		at.Local().Format("2006-01-02 15:04:05.000") + " web.1 hello",
		at.Add(time.Millisecond).Local().Format("2006-01-02 15:04:05.000") + " jack.deploy Deployment 1 started",
		at.Add(2*time.Millisecond).Local().Format("2006-01-02 15:04:05.000") + " worker.2    bytes \xff as written",
	}
	if len(lines) != 3 {
		t.Fatalf("output %q", r.stdout)
	}
	for i := range want {
		if lines[i] != want[i] {
			t.Errorf("line %d: %q, want %q", i, lines[i], want[i])
		}
	}
	if strings.Contains(r.stdout, "\x1b[") {
		t.Errorf("colour on a pipe: %q", r.stdout)
	}

	r = mustRun(t, "logs", "notes/production", "--json", "-p", "worker", "--since", "1h")
	var rec jack.LogRecord
	if err := json.Unmarshal([]byte(strings.TrimSpace(r.stdout)), &rec); err != nil || string(rec.Line) != "bytes \xff as written" || rec.Stream != "stderr" {
		t.Fatalf("--json: %q (%v)", r.stdout, err)
	}
	if r := mustRun(t, "logs", "notes/production", "-n", "1", "--grep", "hel+o"); !strings.HasSuffix(r.stdout, " web.1 hello\n") {
		t.Fatalf("-n 1 --grep: %q", r.stdout)
	}
}

func TestLogsAndDrainsRefuseBadInputWithExit2(t *testing.T) {
	newAPI(t)
	for _, args := range [][]string{
		{"logs", "notes/production", "--grep", "(unclosed"},
		{"logs", "notes/production", "--since", "yesterday"},
		{"logs", "notes/production", "--since", "1h", "--until", "2h"},
		{"logs", "notes/production", "-f", "--until", "1h"},
		{"logs", "notes/production", "-n", "-3"},
		{"logs", "notes/production", "--retention", "5m"},
		{"logs", "notes/production", "--max-size", "lots"},
		{"logs", "notes"},
		{"drains", "add", "notes/production", "gopher://logs.example.com"},
		{"drains", "add", "notes/production", "syslog+tls://"},
		{"drains", "add", "notes/production"},
	} {
		r := runJack(t, args...)
		if r.code != exitUsage || !strings.HasPrefix(r.stderr, "jack: ") || strings.Count(r.stderr, "\n") != 1 {
			t.Errorf("jack %s: exit %d, stderr %q; want 2 and one line", strings.Join(args, " "), r.code, r.stderr)
		}
	}
}

func TestLogSettingsAndDrainsCommands(t *testing.T) {
	newAPI(t)
	mustRun(t, "apps", "create", "notes")
	mustRun(t, "envs", "create", "notes/production")
	if r := mustRun(t, "logs", "notes/production", "--settings"); !strings.Contains(r.stdout, "keeps its logs for 7d, at most 1.0 GiB") {
		t.Fatalf("settings: %q", r.stdout)
	}
	if r := mustRun(t, "logs", "notes/production", "--retention", "3d", "--max-size", "500m"); !strings.Contains(r.stdout, "for 3d, at most 500.0 MiB") {
		t.Fatalf("after setting: %q", r.stdout)
	}
	if r := mustRun(t, "drains", "add", "notes/production", "syslog://127.0.0.1:5514"); !strings.Contains(r.stdout, "Added drain syslog://127.0.0.1:5514") {
		t.Fatalf("add: %q", r.stdout)
	}
	if r := mustRun(t, "drains", "list", "notes/production"); !strings.Contains(r.stdout, "syslog://127.0.0.1:5514") || !strings.Contains(r.stdout, "QUEUED") {
		t.Fatalf("list: %q", r.stdout)
	}
	mustRun(t, "drains", "remove", "notes/production", "syslog://127.0.0.1:5514")
	if r := mustRun(t, "drains", "list", "notes/production"); !strings.Contains(r.stdout, "has no drains") {
		t.Fatalf("list after remove: %q", r.stdout)
	}
	if r := runJack(t, "drains", "remove", "notes/production", "syslog://127.0.0.1:5514"); r.code != exitFailed {
		t.Fatalf("remove a missing drain: exit %d %q", r.code, r.stderr)
	}
}
