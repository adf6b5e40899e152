package deploy

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	jack "github.com/jack-paas/jack"
)

const releaseManifest = "release: migrate --noinput\n"

// releases returns how many release containers the fake has run.
func (h *harness) releases() int {
	n := 0
	for _, r := range h.rt.ran() {
		if r.spec.Kind == jack.KindRelease {
			n++
		}
	}
	return n
}

func stepsText(d *jack.Deployment) string {
	var b strings.Builder
	for _, s := range d.Steps {
		b.WriteString(s.Message + "\n")
	}
	return b.String()
}

func TestReleaseCommandRunsBeforeAnyNewInstance(t *testing.T) {
	h := newHarness(t)
	h.rt.onOneOff("migrate --noinput", fakeOneOff{output: "Applying 0001... OK\nApplying 0002... OK\n"})
	if _, err := h.o.SetConfig(context.Background(), "notes", "production", map[string]string{"SECRET": "s3"}, nil); err != nil {
		t.Fatal(err)
	}
	d := h.deploy(jack.DeployRequest{Image: "notes:v1", Manifest: releaseManifest})
	if d.State != jack.DeploymentSucceeded {
		t.Fatalf("deploy: %s %s", d.State, d.Reason)
	}
	runs := h.rt.ran()
	if len(runs) != 1 {
		t.Fatalf("%d one-off containers, want the release command's", len(runs))
	}
	r := runs[0]
	if r.instancesStarted != 0 {
		t.Fatalf("%d instances of the release had started when its command ran", r.instancesStarted)
	}
	if r.spec.Kind != jack.KindRelease || r.spec.Name != "release" || r.spec.Release != 1 || r.spec.Deployment != d.ID ||
		!slices.Contains(r.spec.Environ, "SECRET=s3") || !slices.Contains(r.spec.Environ, "JACK_RELEASE=1") {
		t.Fatalf("release container spec %+v", r.spec)
	}
	steps := stepsText(d)
	if !strings.Contains(steps, "release | Applying 0001... OK\nrelease | Applying 0002... OK\nRelease command succeeded\n") ||
		strings.Index(steps, "Release command succeeded") > strings.Index(steps, "Starting web.1") {
		t.Fatalf("steps:\n%s", steps)
	}
}

func TestAFailedReleaseCommandChangesNothing(t *testing.T) {
	h := newHarness(t)
	h.deploy(jack.DeployRequest{Image: "notes:v1"})
	starts := h.rt.starts
	h.rt.onOneOff("migrate --noinput", fakeOneOff{output: "Applying 0003...\nboom\n", code: 2})
	l := h.load(4)
	d := h.deploy(jack.DeployRequest{Image: "notes:v2", Manifest: releaseManifest})
	l.end(t)
	if d.State != jack.DeploymentFailed || d.Reason != "release command exited with code 2" ||
		!slices.Equal(d.Output, []string{"Applying 0003...", "boom"}) {
		t.Fatalf("deployment %s %q %q", d.State, d.Reason, d.Output)
	}
	if h.rt.starts != starts {
		t.Fatalf("%d instances started by a deploy whose release failed", h.rt.starts-starts)
	}
	if b := h.body(); !strings.Contains(b, "version=v1 release=1") {
		t.Fatalf("after the failed release: %q", b)
	}
	env, _ := h.store.FindEnv(context.Background(), "notes", "production")
	if env.Release != 1 {
		t.Fatalf("the environment is at release %d", env.Release)
	}

	h.rt.onOneOff("migrate --noinput", fakeOneOff{err: jack.Errorf(jack.EINVALID, `release command "migrate" is not found in the image`)})
	d = h.deploy(jack.DeployRequest{Image: "notes:v2", Manifest: releaseManifest})
	if d.State != jack.DeploymentFailed || !strings.Contains(d.Reason, "is not found in the image") || h.rt.starts != starts {
		t.Fatalf("a missing release command: %s %q, %d starts", d.State, d.Reason, h.rt.starts-starts)
	}
}

func TestReleaseTimeoutFailsTheDeploy(t *testing.T) {
	h := newHarness(t)
	h.rt.onOneOff("migrate --noinput", fakeOneOff{block: true})
	d := h.deploy(jack.DeployRequest{Image: "notes:v1", Manifest: releaseManifest + "deploy: {release_timeout: 200ms}\n"})
	if d.State != jack.DeploymentFailed || d.Reason != "release command timed out after 200ms (deploy.release_timeout)" || h.rt.starts != 0 {
		t.Fatalf("deployment %s %q, %d starts", d.State, d.Reason, h.rt.starts)
	}
}

func TestReleaseCommandRunsOnlyWhenTheVersionChanges(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	v1 := h.deploy(jack.DeployRequest{Image: "notes:v1", Manifest: releaseManifest})
	h.deploy(jack.DeployRequest{Image: "notes:v2", Manifest: releaseManifest})
	if n := h.releases(); n != 2 {
		t.Fatalf("%d release runs after two deploys", n)
	}
	for _, step := range []struct {
		what string
		do   func() (*jack.Deployment, error)
		want int
	}{
		{"config change", func() (*jack.Deployment, error) {
			return h.o.SetConfig(ctx, "notes", "production", map[string]string{"A": "1"}, nil)
		}, 2},
		{"scale", func() (*jack.Deployment, error) {
			return h.o.Scale(ctx, "notes", "production", map[string]int{"web": 2})
		}, 2},
		{"restart", func() (*jack.Deployment, error) { return h.o.Restart(ctx, "notes", "production", "") }, 2},
		{"rollback to another version", func() (*jack.Deployment, error) {
			return h.o.Rollback(ctx, "notes", "production", v1.ReleaseNumber, jack.ReleaseOptions{})
		}, 3},
		{"rollback with --skip-release", func() (*jack.Deployment, error) {
			return h.o.Rollback(ctx, "notes", "production", 2, jack.ReleaseOptions{Skip: true})
		}, 3},
		{"rollback with --force-release", func() (*jack.Deployment, error) {
			return h.o.Rollback(ctx, "notes", "production", 3, jack.ReleaseOptions{Force: true})
		}, 4},
		{"deploy of the same version", func() (*jack.Deployment, error) {
			return h.o.Deploy(ctx, jack.DeployRequest{App: "notes", Env: "production", Version: "v2"})
		}, 5},
		{"deploy with --skip-release", func() (*jack.Deployment, error) {
			return h.o.Deploy(ctx, jack.DeployRequest{App: "notes", Env: "production", Version: "v1", SkipRelease: true})
		}, 5},
	} {
		h.mustSucceed(step.do())
		if n := h.releases(); n != step.want {
			t.Fatalf("after a %s: %d release runs, want %d", step.what, n, step.want)
		}
	}
	if _, err := h.o.Deploy(ctx, jack.DeployRequest{App: "notes", Env: "production", Version: "v1", SkipRelease: true, ForceRelease: true}); jack.ErrorCode(err) != jack.EINVALID {
		t.Fatalf("--skip-release with --force-release: %v", err)
	}
}

func TestRunRecordsTheExitCode(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	req := jack.RunRequest{App: "notes", Env: "production", Command: []string{"check"}}
	if _, err := h.o.OneOffs().Run(ctx, req, jack.OneOffIO{}); jack.ErrorCode(err) != jack.EINVALID {
		t.Fatalf("a run before the first deploy: %v", err)
	}
	h.deploy(jack.DeployRequest{Image: "notes:v1"})
	h.rt.onOneOff("check", fakeOneOff{output: "1 problem\n", code: 4})
	var out strings.Builder
	run, err := h.o.OneOffs().Run(ctx, req, jack.OneOffIO{Stdout: &out})
	if err != nil || run.State != jack.RunExited || run.ExitCode != 4 || out.String() != "1 problem\n" {
		t.Fatalf("run %+v, %v, output %q", run, err, out.String())
	}
	runs, _ := h.store.ListRuns(ctx, h.env.ID, jack.KindRun, "", 10)
	if len(runs) != 1 || runs[0].ExitCode != 4 || !slices.Equal(runs[0].Output, []string{"1 problem"}) {
		t.Fatalf("stored runs %+v", runs)
	}
	spec := h.rt.ran()[0].spec
	if spec.Kind != jack.KindRun || spec.Name != "run" || spec.Process != "web" || !slices.Contains(spec.Environ, "JACK_PROCESS=run") {
		t.Fatalf("run spec %+v", spec)
	}
	req.Process = "worker"
	if _, err := h.o.OneOffs().Run(ctx, req, jack.OneOffIO{}); jack.ErrorCode(err) != jack.EINVALID {
		t.Fatalf("a run with an unknown process: %v", err)
	}
}

func TestCronTickRunsOnceAndSkipsWhileTheLastRuns(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	h.deploy(jack.DeployRequest{Image: "notes:v1", Manifest: "cron:\n  - {name: report, schedule: \"@every 1m\", command: report}\n"})
	env, _ := h.store.FindEnv(ctx, "notes", "production")
	rel, v, _ := h.o.current(ctx, env)
	job := v.Manifest.Cron[0]
	h.rt.onOneOff("report", fakeOneOff{block: true})
	tick := time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC)
	if started, err := h.o.Cron().StartCronTick(ctx, env, rel, v, job, tick); !started || err != nil {
		t.Fatalf("first tick: %v %v", started, err)
	}
	if started, err := h.o.Cron().StartCronTick(ctx, env, rel, v, job, tick); started || err != nil {
		t.Fatalf("the same tick again: %v %v; want it refused", started, err)
	}
	eventually(t, "the run's container", func() bool { return len(h.rt.ran()) == 1 })
	next := tick.Add(time.Minute)
	if started, err := h.o.Cron().StartCronTick(ctx, env, rel, v, job, next); !started || err != nil {
		t.Fatalf("next tick: %v %v", started, err)
	}
	runs, _ := h.store.ListRuns(ctx, env.ID, jack.KindCron, "report", 10)
	if len(runs) != 2 || runs[0].State != jack.RunSkipped || runs[1].State != jack.RunRunning || len(h.rt.ran()) != 1 {
		t.Fatalf("runs %+v %+v, %d containers; want the second tick skipped", runs[0], runs[1], len(h.rt.ran()))
	}
	events, _ := h.store.ListEvents(ctx, env.ID, 0, 100)
	if !strings.Contains(events[len(events)-1].Message, "Cron job report skipped its run of 2026-11-26T10:01:00Z") {
		t.Fatalf("last event %q", events[len(events)-1].Message)
	}
}
