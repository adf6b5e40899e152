package main

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/jack-paas/jack"
	"github.com/jack-paas/jack/internal/httpapi/httpapitest"
)

func TestReadCommandsPrintTablesAndJSON(t *testing.T) {
	srv := newAPI(t)
	setupEnv(t)
	srv.Orchestrator.SetNext(&httpapitest.Outcome{Steps: []string{"ok"}})
	mustRun(t, "deploy", "notes/production", "--image", "notes:v1")
	srv.Orchestrator.SetInstances([]*jack.Instance{
		{Name: "web.1", Process: "web", State: jack.InstanceHealthy, Release: 1, Version: "v1", Address: "172.18.0.5:8080", StartedAt: time.Now().Add(-3 * time.Minute), Restarts: 2},
	})
	for _, tc := range []struct {
		args []string
		want []string // substrings of the table
	}{
		{[]string{"apps"}, []string{"NAME", "notes"}},
		{[]string{"envs"}, []string{"notes/production", "web", "http://production.notes.localhost:8080"}},
		{[]string{"envs", "list", "notes"}, []string{"notes/production"}},
		{[]string{"versions", "notes"}, []string{"v1", "notes:v1"}},
		{[]string{"releases", "notes/production"}, []string{"1 *", "v1", "succeeded", "Deploy v1"}},
		{[]string{"ps", "notes/production"}, []string{"NAME", "RESTARTS", "web.1", "healthy", "172.18.0.5:8080", "3m0s", "2"}},
		{[]string{"events", "notes/production"}, []string{"deploy", "Deployment 1 started"}},
		{[]string{"status", "notes/production"}, []string{"Environment:", "notes/production (web)", "URL:", "Release:", "1 (v1, image notes:v1)", "Deployment:", "deploy of release 1 succeeded", "Instances:", "web 1 healthy"}},
	} {
		r := mustRun(t, tc.args...)
		for _, w := range tc.want {
			if !strings.Contains(r.stdout, w) {
				t.Errorf("jack %s lacks %q:\n%s", strings.Join(tc.args, " "), w, r.stdout)
			}
		}
		r = mustRun(t, append(tc.args, "--json")...)
		if !json.Valid([]byte(r.stdout)) || !strings.Contains(r.stdout, "\n  ") {
			t.Errorf("jack %s --json is not indented JSON:\n%s", strings.Join(tc.args, " "), r.stdout)
		}
	}
}
