package deploy

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	jack "github.com/jack-paas/jack"
)

func TestDeployServesTheNewVersionAndRecordsReleases(t *testing.T) {
	h := newHarness(t)
	if code, _, _ := h.get("/"); code != 503 {
		t.Fatalf("before any deploy: %d, want 503", code)
	}
	d := h.deploy(jack.DeployRequest{Image: "notes:v1"})
	if d.State != jack.DeploymentSucceeded {
		t.Fatalf("deploy v1: %s %s", d.State, d.Reason)
	}
	if b := h.body(); !strings.Contains(b, "version=v1 release=1") {
		t.Fatalf("after v1: %q", b)
	}
	h.deploy(jack.DeployRequest{Image: "notes:v2"})
	if b := h.body(); !strings.Contains(b, "version=v2 release=2") {
		t.Fatalf("after v2: %q", b)
	}
	rels, err := h.store.ListReleases(context.Background(), h.env.ID)
	if err != nil || len(rels) != 2 || rels[0].Version != "v2" || rels[1].Version != "v1" {
		t.Fatalf("releases = %+v, %v", rels, err)
	}
	if got := len(h.rt.running("web")); got != 1 {
		t.Fatalf("%d web instances running, want 1", got)
	}
}

func TestNoRequestFailsAcrossDeployScaleConfigRollbackAndRestart(t *testing.T) {
	h := newHarness(t)
	h.deploy(jack.DeployRequest{Image: "notes:v1"})
	l := h.load(8)
	ctx := context.Background()
	h.mustSucceed(h.o.Scale(ctx, "notes", "production", map[string]int{"web": 3}))
	h.mustSucceed(h.o.Deploy(ctx, jack.DeployRequest{App: "notes", Env: "production", Image: "notes:v2"}))
	h.mustSucceed(h.o.SetConfig(ctx, "notes", "production", map[string]string{"SECRET": "s3cret"}, nil))
	h.mustSucceed(h.o.Rollback(ctx, "notes", "production", 0, jack.ReleaseOptions{}))
	h.mustSucceed(h.o.Restart(ctx, "notes", "production", ""))
	h.mustSucceed(h.o.Scale(ctx, "notes", "production", map[string]int{"web": 1}))
	h.mustSucceed(h.o.Deploy(ctx, jack.DeployRequest{App: "notes", Env: "production", Image: "notes:v2", Strategy: jack.StrategyImmutable}))
	l.end(t)
	if got := len(h.rt.running("web")); got != 1 {
		t.Fatalf("%d web instances running, want 1", got)
	}
}

func TestRollingNeverDropsBelowTheCurrentCount(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	if d, err := h.o.Scale(ctx, "notes", "production", map[string]int{"web": 3}); d != nil || err != nil {
		t.Fatalf("scale before the first deploy: %v, %v; want stored", d, err)
	}
	h.deploy(jack.DeployRequest{Image: "notes:v1"})
	h.tables.upstreamCounts()
	h.deploy(jack.DeployRequest{Image: "notes:v2"})
	counts := h.tables.upstreamCounts()
	if len(counts) < 3 {
		t.Fatalf("rolling 3 instances with batch 1 published %v; want a switch per batch", counts)
	}
	for _, n := range counts {
		if n < 3 {
			t.Fatalf("upstream counts during rolling deploy: %v; never below 3", counts)
		}
	}
}

func TestImmutableSwitchesEveryInstanceAtOnce(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	h.o.Scale(ctx, "notes", "production", map[string]int{"web": 3})
	h.deploy(jack.DeployRequest{Image: "notes:v1"})
	h.tables.upstreamCounts()
	d := h.deploy(jack.DeployRequest{Image: "notes:v2", Strategy: jack.StrategyImmutable})
	if d.State != jack.DeploymentSucceeded {
		t.Fatal(d.Reason)
	}
	// One table with the 3 new instances and none of the old: old and new
	// never serve side by side.
	counts := h.tables.upstreamCounts()
	if len(counts) == 0 || counts[0] != 3 {
		t.Fatalf("immutable deploy published %v; want [3]: one switch from 3 old to 3 new", counts)
	}
	for i := 0; i < 10; i++ {
		if b := h.body(); !strings.Contains(b, "version=v2") {
			t.Fatalf("after the switch: %q", b)
		}
	}
}

func TestAllAtOnceStopsTheOldSetFirst(t *testing.T) {
	h := newHarness(t)
	h.deploy(jack.DeployRequest{Image: "notes:v1"})
	h.tables.upstreamCounts()
	d := h.deploy(jack.DeployRequest{Image: "notes:v2", Strategy: jack.StrategyAllAtOnce})
	if d.State != jack.DeploymentSucceeded {
		t.Fatal(d.Reason)
	}
	if counts := h.tables.upstreamCounts(); len(counts) < 2 || counts[0] != 0 {
		t.Fatalf("all-at-once published %v; want the old set out (0) before the new one in", counts)
	}
	if b := h.body(); !strings.Contains(b, "version=v2") {
		t.Fatalf("after deploy: %q", b)
	}
}

func TestScaleKeepsRunningInstances(t *testing.T) {
	h := newHarness(t)
	h.deploy(jack.DeployRequest{Image: "notes:v1"})
	before := h.rt.running("web")[0].ID
	h.mustSucceed(h.o.Scale(context.Background(), "notes", "production", map[string]int{"web": 2}))
	ids := map[string]bool{}
	for _, c := range h.rt.running("web") {
		ids[c.ID] = true
	}
	if len(ids) != 2 || !ids[before] {
		t.Fatalf("after scaling to 2: %v; want the first instance kept and one more", ids)
	}
}

func TestRestartReplacesEveryInstance(t *testing.T) {
	h := newHarness(t)
	h.deploy(jack.DeployRequest{Image: "notes:v1"})
	before := h.rt.running("web")[0].ID
	d := h.mustSucceed(h.o.Restart(context.Background(), "notes", "production", ""))
	after := h.rt.running("web")
	if len(after) != 1 || after[0].ID == before {
		t.Fatalf("restart left %v (before %s)", after, before)
	}
	if d.ReleaseNumber != 1 {
		t.Fatalf("restart rolled out release %d; want the current one, 1", d.ReleaseNumber)
	}
}

func TestConfigChangeIsANewReleaseWithTheVars(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	if d, err := h.o.SetConfig(ctx, "notes", "production", map[string]string{"SECRET": "early"}, nil); err != nil || d != nil {
		t.Fatalf("config before the first deploy: %v, %v; want stored without a deployment", d, err)
	}
	h.deploy(jack.DeployRequest{Image: "notes:v1"})
	if b := h.body(); !strings.Contains(b, "secret=early") {
		t.Fatalf("first deploy did not get the stored config: %q", b)
	}
	d := h.mustSucceed(h.o.SetConfig(ctx, "notes", "production", map[string]string{"SECRET": "s3cret"}, nil))
	if d.ReleaseNumber != 2 {
		t.Fatalf("config change made release %d, want 2", d.ReleaseNumber)
	}
	if b := h.body(); !strings.Contains(b, "secret=s3cret release=") && !strings.Contains(b, "secret=s3cret") {
		t.Fatalf("after config set: %q", b)
	}
	h.mustSucceed(h.o.SetConfig(ctx, "notes", "production", nil, []string{"SECRET"}))
	if b := h.body(); !strings.HasSuffix(b, "secret=") {
		t.Fatalf("after config unset: %q", b)
	}
	if _, err := h.o.SetConfig(ctx, "notes", "production", map[string]string{"1BAD": "x"}, nil); jack.ErrorCode(err) != jack.EINVALID {
		t.Fatalf("bad key: %v", err)
	}
}

func TestRollbackGoesToThePreviousReleaseThatServed(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	h.deploy(jack.DeployRequest{Image: "notes:v1"})
	h.deploy(jack.DeployRequest{Image: "notes:v2"})
	h.rt.addImage("notes:broken", fakeImage{exitAtStart: 1})
	if d := h.deploy(jack.DeployRequest{Image: "notes:broken"}); d.State != jack.DeploymentFailed {
		t.Fatalf("broken deploy: %s", d.State)
	}
	d := h.mustSucceed(h.o.Rollback(ctx, "notes", "production", 0, jack.ReleaseOptions{}))
	if b := h.body(); !strings.Contains(b, "version=v1") {
		t.Fatalf("rollback from v2 serves %q; want v1 (the failed release 3 never served)", b)
	}
	if d.ReleaseNumber != 4 {
		t.Fatalf("rollback made release %d; want a new one, 4", d.ReleaseNumber)
	}
	h.mustSucceed(h.o.Rollback(ctx, "notes", "production", 2, jack.ReleaseOptions{}))
	if b := h.body(); !strings.Contains(b, "version=v2") {
		t.Fatalf("rollback --to 2 serves %q", b)
	}
}

// Each way a deploy can fail leaves the old release serving, removes the
// new instances and says why.
func TestAFailedDeployChangesNothing(t *testing.T) {
	cases := []struct {
		name   string
		image  fakeImage
		req    jack.DeployRequest
		reason string
		output string
	}{
		{name: "container exits", image: fakeImage{exitAtStart: 3}, reason: "web.1 exited with code 3", output: "boom"},
		{name: "health never passes", image: fakeImage{failHealth: true},
			req:    jack.DeployRequest{Manifest: "processes: {web: {health: /health}}", ManifestName: "jack.yaml", Timeout: 300 * time.Millisecond},
			reason: "did not pass its health check"},
		{name: "timeout", image: fakeImage{startDelay: time.Hour}, req: jack.DeployRequest{Timeout: 200 * time.Millisecond}, reason: "in time"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t)
			h.deploy(jack.DeployRequest{Image: "notes:v1"})
			h.rt.addImage("notes:bad", tc.image)
			l := h.load(4)
			tc.req.Image = "notes:bad"
			d := h.deploy(tc.req)
			l.end(t)
			if d.State != jack.DeploymentFailed || !strings.Contains(d.Reason, tc.reason) {
				t.Fatalf("deployment %s: %q; want failed with %q", d.State, d.Reason, tc.reason)
			}
			if tc.output != "" && !strings.Contains(strings.Join(d.Output, "\n"), tc.output) {
				t.Fatalf("output %q lacks %q", d.Output, tc.output)
			}
			if b := h.body(); !strings.Contains(b, "version=v1") {
				t.Fatalf("after the failure: %q", b)
			}
			if running := h.rt.running("web"); len(running) != 1 || running[0].Version != "v1" {
				t.Fatalf("instances after the failure: %+v", running)
			}
			env, _ := h.store.FindEnv(context.Background(), "notes", "production")
			if env.Release != 1 {
				t.Fatalf("environment serves release %d; want 1", env.Release)
			}
		})
	}
}

func TestAMissingImageFailsTheDeployBeforeAnythingChanges(t *testing.T) {
	h := newHarness(t)
	h.deploy(jack.DeployRequest{Image: "notes:v1"})
	d, err := h.o.Deploy(context.Background(), jack.DeployRequest{App: "notes", Env: "production", Image: "notes:nope"})
	if err != nil {
		t.Fatal(err)
	}
	d = h.wait(d)
	if d.State != jack.DeploymentFailed || !strings.Contains(d.Reason, "notes:nope") || !strings.Contains(d.Reason, "not in its registry") {
		t.Fatalf("deployment %s: %s", d.State, d.Reason)
	}
	if rels, _ := h.store.ListReleases(context.Background(), h.env.ID); len(rels) != 1 {
		t.Fatalf("releases after a failed pull: %d; want the first only", len(rels))
	}
	if body := h.body(); !strings.Contains(body, "version=v1") {
		t.Fatalf("after the failed pull: %q", body)
	}
}

func TestASecondDeployIsRefusedWhileOneRuns(t *testing.T) {
	h := newHarness(t)
	h.rt.addImage("notes:slow", fakeImage{startDelay: 300 * time.Millisecond})
	ctx := context.Background()
	d, err := h.o.Deploy(ctx, jack.DeployRequest{App: "notes", Env: "production", Image: "notes:slow"})
	if err != nil {
		t.Fatal(err)
	}
	_, err = h.o.Deploy(ctx, jack.DeployRequest{App: "notes", Env: "production", Image: "notes:v1"})
	if jack.ErrorCode(err) != jack.ECONFLICT || !strings.Contains(err.Error(), "already deploying") {
		t.Fatalf("second deploy: %v", err)
	}
	h.wait(d)
}

func TestADeadInstanceIsReplaced(t *testing.T) {
	h := newHarness(t)
	h.deploy(jack.DeployRequest{Image: "notes:v1"})
	dead := h.rt.running("web")[0]
	h.rt.exit(dead.ID, 137)
	eventually(t, "a replacement", func() bool {
		r := h.rt.running("web")
		return len(r) == 1 && r[0].ID != dead.ID
	})
	eventually(t, "the replacement to serve", func() bool {
		code, _, _ := h.get("/")
		return code == 200
	})
	events, _ := h.store.ListEvents(context.Background(), h.env.ID, 0, 50)
	var found bool
	for _, e := range events {
		found = found || strings.Contains(e.Message, "web.1 exited with code 137")
	}
	if !found {
		t.Fatalf("no event says why web.1 was replaced: %+v", events)
	}
}

func TestACrashLoopIsBackedOff(t *testing.T) {
	h := newHarness(t)
	h.deploy(jack.DeployRequest{Image: "notes:v1"})
	for range 3 {
		victim := h.rt.running("web")
		eventually(t, "an instance", func() bool { victim = h.rt.running("web"); return len(victim) == 1 })
		h.rt.exit(victim[0].ID, 1)
	}
	// After three deaths in a row the next replacement waits seconds, not
	// milliseconds: the environment is not restarted in a hot loop.
	time.Sleep(300 * time.Millisecond)
	h.rt.mu.Lock()
	starts := h.rt.starts
	h.rt.mu.Unlock()
	if starts > 4 {
		t.Fatalf("%d starts after 3 deaths; want back-off", starts)
	}
}

// The daemon stops in the middle of a deploy; the next one undoes it,
// under load, with no request failing and no duplicate instance.
func TestAnInterruptedDeployIsUndoneOnRestart(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	h.o.Scale(ctx, "notes", "production", map[string]int{"web": 2})
	h.deploy(jack.DeployRequest{Image: "notes:v1"})
	l := h.load(4)
	h.rt.addImage("notes:slow", fakeImage{startDelay: 200 * time.Millisecond})
	d, err := h.o.Deploy(ctx, jack.DeployRequest{App: "notes", Env: "production", Image: "notes:slow"})
	if err != nil {
		t.Fatal(err)
	}
	eventually(t, "the first new instance", func() bool { return len(h.rt.running("web")) == 3 })
	h.o.Close()
	h.start()
	eventually(t, "the undo", func() bool {
		r := h.rt.running("web")
		return len(r) == 2 && r[0].Version == "v1" && r[1].Version == "v1"
	})
	l.end(t)
	got, _ := h.store.FindDeployment(ctx, d.ID)
	if got.State != jack.DeploymentFailed || !strings.Contains(got.Reason, "interrupted") {
		t.Fatalf("interrupted deployment: %s %q", got.State, got.Reason)
	}
	if b := h.body(); !strings.Contains(b, "version=v1") {
		t.Fatalf("after restart: %q", b)
	}
}

// A restart of the daemon adopts running instances instead of replacing them.
func TestRestartOfTheDaemonAdoptsInstances(t *testing.T) {
	h := newHarness(t)
	h.deploy(jack.DeployRequest{Image: "notes:v1"})
	before := h.rt.running("web")[0].ID
	h.o.Close()
	h.start()
	time.Sleep(300 * time.Millisecond) // a few heal intervals
	after := h.rt.running("web")
	if len(after) != 1 || after[0].ID != before {
		t.Fatalf("after the restart: %+v; want %s adopted", after, before)
	}
	if b := h.body(); !strings.Contains(b, "version=v1") {
		t.Fatalf("after restart: %q", b)
	}
}

// After a restart of the daemon, the router drops the instances that died
// while it was down at once, before the living ones are probed; an
// instance that fails its probe leaves the table after it.
func TestARestartDropsDeadInstancesFromTheRouterFirst(t *testing.T) {
	h := newHarness(t)
	h.deploy(jack.DeployRequest{Image: "notes:v1"})
	h.mustSucceed(h.o.Scale(context.Background(), "notes", "production", map[string]int{"web": 3}))
	web := h.rt.running("web")
	dead, hung, fine := web[0].ID, web[1].ID, web[2].ID
	h.o.Close()
	h.rt.mu.Lock()
	h.rt.containers[dead].c.Running = false
	h.rt.containers[dead].srv.Close()
	h.rt.containers[hung].srv.Close() // running, but its probe fails
	h.rt.mu.Unlock()
	h.tables.mu.Lock()
	sent := len(h.tables.tables)
	h.tables.mu.Unlock()

	h.start()
	eventually(t, "the table of the probed instances", func() bool {
		ups := h.proxy.Routes().Routes[0].Upstreams
		return len(ups) == 1 && ups[0].ID == fine
	})
	h.tables.mu.Lock()
	after := h.tables.tables[sent:]
	h.tables.mu.Unlock()
	var first []string
	for _, u := range after[0].Routes[0].Upstreams {
		first = append(first, u.ID)
	}
	if slices.Contains(first, dead) || !slices.Contains(first, hung) || !slices.Contains(first, fine) {
		t.Errorf("the first table after the restart routes %v; want the two running instances, not the dead %s", first, dead)
	}
	for _, table := range after {
		for _, u := range table.Routes[0].Upstreams {
			if u.ID == dead {
				t.Fatalf("a table after the restart routes the dead instance: %v", table)
			}
		}
	}
}

// Every process of the manifest runs; only web gets traffic.
func TestWorkersRunButAreNotRouted(t *testing.T) {
	h := newHarness(t)
	manifest := "processes:\n  web: {}\n  worker: {command: [worker], instances: 2}\n"
	d := h.deploy(jack.DeployRequest{Image: "notes:v1", Manifest: manifest, ManifestName: "jack.yaml"})
	if d.State != jack.DeploymentSucceeded {
		t.Fatal(d.Reason)
	}
	if n := len(h.rt.running("worker")); n != 2 {
		t.Fatalf("%d workers running, want 2", n)
	}
	for _, r := range h.proxy.Routes().Routes {
		if len(r.Upstreams) != 1 {
			t.Fatalf("route %s has %d upstreams; want only the web instance", r.Env, len(r.Upstreams))
		}
	}
	h.mustSucceed(h.o.Scale(context.Background(), "notes", "production", map[string]int{"worker": 0}))
	if n := len(h.rt.running("worker")); n != 0 {
		t.Fatalf("%d workers after scale worker=0", n)
	}
	if _, err := h.o.Scale(context.Background(), "notes", "production", map[string]int{"wrker": 1}); jack.ErrorCode(err) != jack.EINVALID {
		t.Fatalf("scale of an unknown process: %v", err)
	}
}

// When the engine's events are lost (it restarted, and its containers with
// it), the resync that follows finds the dead instances and replaces them.
func TestInstancesLostWithoutEventsAreReplacedOnResync(t *testing.T) {
	h := newHarness(t)
	h.deploy(jack.DeployRequest{Image: "notes:v1"})
	lost := h.rt.running("web")[0]
	h.rt.mu.Lock()
	fc := h.rt.containers[lost.ID]
	fc.c.Running = false
	h.rt.mu.Unlock()
	fc.srv.Close() // no "die" event: as if the engine went away with it
	h.rt.events <- jack.ContainerEvent{Action: "resync"}
	eventually(t, "a replacement", func() bool {
		r := h.rt.running("web")
		return len(r) == 1 && r[0].ID != lost.ID
	})
	eventually(t, "the replacement to serve", func() bool {
		code, _, _ := h.get("/")
		return code == 200
	})
}

// A router that is being restarted (and does not answer for a moment) does
// not fail a deploy.
func TestADeployWaitsForARestartingRouter(t *testing.T) {
	h := newHarness(t)
	h.deploy(jack.DeployRequest{Image: "notes:v1"})
	h.tables.down.Store(3) // the next three tables find no router
	d := h.deploy(jack.DeployRequest{Image: "notes:v2"})
	if d.State != jack.DeploymentSucceeded {
		t.Fatalf("deploy while the router restarts: %s", d.Reason)
	}
	if b := h.body(); !strings.Contains(b, "version=v2") {
		t.Fatalf("after deploy: %q", b)
	}
}
