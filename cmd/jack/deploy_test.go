package main

import (
	"context"
	"regexp"
	"strings"
	"testing"

	"github.com/jack-paas/jack"
	"github.com/jack-paas/jack/internal/httpapi/httpapitest"
)

// setupEnv creates notes/production through the CLI.
func setupEnv(t *testing.T) {
	t.Helper()
	mustRun(t, "apps", "create", "notes")
	mustRun(t, "envs", "create", "notes/production")
}

func TestDeployPrintsStepsAndWhatServes(t *testing.T) {
	srv := newAPI(t)
	setupEnv(t)
	srv.Orchestrator.SetNext(&httpapitest.Outcome{Steps: []string{"Pulling notes:v1", "web.1 healthy", "Switched traffic"}})
	r := mustRun(t, "deploy", "notes/production", "--image", "notes:v1")
	want := "  +0.10s  Pulling notes:v1\n" +
		"  +0.20s  web.1 healthy\n" +
		"  +0.30s  Switched traffic\n" +
		"Deployed notes/production release 1 (v1) in 0.40s: http://production.notes.localhost:8080\n"
	if r.stdout != want {
		t.Fatalf("stdout:\n%s\nwant:\n%s", r.stdout, want)
	}
	if r.stderr != "" {
		t.Fatalf("stderr: %q", r.stderr)
	}
}

func TestFailedDeployPrintsReasonAndOutputAndExits1(t *testing.T) {
	srv := newAPI(t)
	setupEnv(t)
	srv.Orchestrator.SetNext(&httpapitest.Outcome{})
	mustRun(t, "deploy", "notes/production", "--image", "notes:v1")

	srv.Orchestrator.SetNext(&httpapitest.Outcome{
		Steps:  []string{"Starting web.1"},
		Fail:   "web.1 exited with code 3 before it was healthy",
		Output: []string{"Traceback (most recent call last):", "ImportError: no module named notesite"},
	})
	r := runJack(t, "deploy", "notes/production", "--image", "notes:v2")
	if r.code != exitFailed {
		t.Fatalf("exit %d, want 1", r.code)
	}
	if r.stdout != "  +0.10s  Starting web.1\n" {
		t.Fatalf("stdout: %q", r.stdout)
	}
	want := "jack: deploy of notes/production release 2 failed after 0.20s: web.1 exited with code 3 before it was healthy; release 1 still serves\n" +
		"  last output:\n" +
		"    Traceback (most recent call last):\n" +
		"    ImportError: no module named notesite\n"
	if r.stderr != want {
		t.Fatalf("stderr:\n%s\nwant:\n%s", r.stderr, want)
	}
}

func TestDeployNoWaitPrintsTheDeploymentID(t *testing.T) {
	srv := newAPI(t)
	setupEnv(t)
	r := mustRun(t, "deploy", "notes/production", "--image", "notes:v1", "--no-wait")
	if !regexp.MustCompile(`^\d+\n$`).MatchString(r.stdout) {
		t.Fatalf("stdout %q, want a deployment ID", r.stdout)
	}
	d, err := srv.Store.FindDeployment(context.Background(), mustAtoi(t, strings.TrimSpace(r.stdout)))
	if err != nil || d.State != jack.DeploymentRunning {
		t.Fatalf("deployment = %+v, %v; want it left running", d, err)
	}
}

func TestDeploySendsTheManifestFileAndFlags(t *testing.T) {
	srv := newAPI(t)
	setupEnv(t)
	srv.Orchestrator.SetNext(&httpapitest.Outcome{})
	manifest := t.TempDir() + "/Procfile"
	writeFile(t, manifest, "web: gunicorn app\nrelease: migrate\n", 0o644)
	mustRun(t, "deploy", "notes/production", "--image", "notes:v1", "-f", manifest, "--label", "first", "--strategy", "immutable", "--timeout", "90s")
	calls := srv.Orchestrator.Calls()
	want := "Deploy notes/production image=notes:v1 version= manifest=Procfile label=first strategy=immutable timeout=1m30s"
	if len(calls) == 0 || calls[0] != want {
		t.Fatalf("calls %q, want first %q", calls, want)
	}
	versions, err := srv.Store.ListVersions(context.Background(), 1)
	if err != nil || len(versions) != 1 || versions[0].ManifestText != "web: gunicorn app\nrelease: migrate\n" {
		t.Fatalf("versions = %+v, %v; want the file's content", versions, err)
	}
	// Promote the version by label.
	r := mustRun(t, "deploy", "notes/production", "--version", "first")
	if !strings.HasPrefix(r.stdout, "Deployed notes/production release 2 (first)") {
		t.Fatalf("stdout %q", r.stdout)
	}
}

func TestRollbackScaleRestartAndConfigSayWhatChanged(t *testing.T) {
	srv := newAPI(t)
	setupEnv(t)
	srv.Orchestrator.SetNext(&httpapitest.Outcome{Steps: []string{"ok"}})
	mustRun(t, "deploy", "notes/production", "--image", "notes:v1")
	mustRun(t, "deploy", "notes/production", "--image", "notes:v2")
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"rollback", "notes/production"}, "Rolled back notes/production, now release 3 (v1), in 0.20s: http://production.notes.localhost:8080"},
		{[]string{"config", "set", "notes/production", "A=1"}, "Config changed on notes/production, now release 4 (v1), in 0.20s: http://production.notes.localhost:8080"},
		{[]string{"scale", "notes/production", "web=2"}, "Scaled notes/production, now release 5 (v1), in 0.20s: http://production.notes.localhost:8080"},
		{[]string{"restart", "notes/production", "web"}, "Restarted notes/production release 5 (v1) in 0.20s: http://production.notes.localhost:8080"},
	} {
		r := mustRun(t, tc.args...)
		lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
		if last := lines[len(lines)-1]; last != tc.want {
			t.Errorf("jack %s ended with %q, want %q", strings.Join(tc.args, " "), last, tc.want)
		}
	}
}

func TestRollbackSendsTheReleaseOptions(t *testing.T) {
	srv := newAPI(t)
	setupEnv(t)
	srv.Orchestrator.SetNext(&httpapitest.Outcome{})
	mustRun(t, "deploy", "notes/production", "--image", "notes:v1")
	mustRun(t, "deploy", "notes/production", "--image", "notes:v2")
	mustRun(t, "rollback", "notes/production", "--to", "1", "--skip-release")
	calls := srv.Orchestrator.Calls()
	if want := "Rollback notes/production to=1 skip_release"; calls[len(calls)-1] != want {
		t.Fatalf("calls %q, want last %q", calls, want)
	}
}

func TestDeployAndRollbackRefuseASkippedAndForcedReleaseCommand(t *testing.T) {
	srv := newAPI(t)
	setupEnv(t)
	for _, args := range [][]string{
		{"deploy", "notes/production", "--image", "notes:v1", "--skip-release", "--force-release"},
		{"rollback", "notes/production", "--skip-release", "--force-release"},
	} {
		r := runJack(t, args...)
		if r.code != exitUsage || !strings.Contains(r.stderr, "the release command can't be both skipped and forced") {
			t.Errorf("jack %s: exit %d, stderr %q; want 2 and the reason", strings.Join(args, " "), r.code, r.stderr)
		}
	}
	if calls := srv.Orchestrator.Calls(); len(calls) != 0 {
		t.Fatalf("refused commands reached the orchestrator: %v", calls)
	}
}
