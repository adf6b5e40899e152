package deploy

import (
	"context"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	jack "github.com/jack-paas/jack"
)

const checkedManifest = "processes:\n  web: {instances: 2, health: {path: /health, interval: 50ms, timeout: 1s}}\n"

// instances returns notes/production's instances by name.
func (h *harness) instances() map[string]*jack.Instance {
	h.t.Helper()
	list, err := h.o.Instances(context.Background(), "notes", "production")
	if err != nil {
		h.t.Fatal(err)
	}
	out := map[string]*jack.Instance{}
	for _, in := range list {
		out[in.Name] = in
	}
	return out
}

// A running instance that starts failing its health check leaves the
// rotation after three failures in a row, and comes back when it passes.
func TestCheckerTakesFailingInstancesOutOfRotationAndBack(t *testing.T) {
	h := newHarness(t)
	sick := &atomic.Bool{}
	h.rt.addImage("notes:flaky", fakeImage{sick: sick})
	h.deploy(jack.DeployRequest{Image: "notes:flaky", Manifest: checkedManifest, ManifestName: "jack.yaml"})

	eventually(t, "continuous checks with a latency", func() bool {
		in := h.instances()["web.1"]
		return in != nil && !in.LastCheck.IsZero() && in.CheckLatency > 0 && in.State == jack.InstanceHealthy
	})
	sick.Store(true)
	eventually(t, "both instances unhealthy", func() bool {
		ins := h.instances()
		return ins["web.1"].State == jack.InstanceUnhealthy && ins["web.2"].State == jack.InstanceUnhealthy
	})
	in := h.instances()["web.1"]
	if in.CheckFailures < 3 || !strings.Contains(in.LastCheckError, "500") {
		t.Errorf("unhealthy instance: %d failures, last error %q; want 3 or more and the 500", in.CheckFailures, in.LastCheckError)
	}
	// The table that takes them out follows the state.
	eventually(t, "the router to answer 503 with every instance failing its check (none in rotation)", func() bool {
		code, _, _ := h.get("/")
		return code == 503
	})
	sick.Store(false)
	eventually(t, "instances back in rotation", func() bool {
		code, _, _ := h.get("/")
		in := h.instances()["web.2"]
		return code == 200 && in != nil && in.State == jack.InstanceHealthy
	})
	// The events are stored as the checker acts, just after the table.
	var out, back bool
	deadline := time.Now().Add(10 * time.Second)
	for !out || !back {
		if time.Now().After(deadline) {
			t.Fatalf("events do not tell of the instance leaving (%v) and coming back (%v)", out, back)
		}
		time.Sleep(5 * time.Millisecond)
		events, _ := h.store.ListEvents(context.Background(), h.env.ID, 0, 100)
		for _, e := range events {
			out = out || strings.Contains(e.Message, "failed 3 health checks in a row") && strings.Contains(e.Message, "out of rotation")
			back = back || strings.Contains(e.Message, "passes its health check again; back in rotation")
		}
	}
}

// An unhealthy instance that then dies is replaced like any other.
func TestCheckerUnhealthyInstanceThatDiesIsReplaced(t *testing.T) {
	h := newHarness(t)
	sick := &atomic.Bool{}
	h.rt.addImage("notes:flaky", fakeImage{sick: sick})
	h.deploy(jack.DeployRequest{Image: "notes:flaky", Manifest: checkedManifest, ManifestName: "jack.yaml"})
	sick.Store(true)
	eventually(t, "web.1 unhealthy", func() bool {
		in := h.instances()["web.1"]
		return in != nil && in.State == jack.InstanceUnhealthy
	})
	sick.Store(false)
	old := h.instances()["web.1"].ID
	h.rt.exit(old, 2)
	eventually(t, "a replacement of web.1", func() bool {
		in := h.instances()["web.1"]
		return in != nil && in.ID != old && in.State == jack.InstanceHealthy
	})
	in := h.instances()["web.1"]
	if in.RestartsTotal != 1 || in.RecentRestarts != 1 || !strings.Contains(in.LastExit, "code 2") {
		t.Errorf("restart counts: total %d, recent %d, last %q", in.RestartsTotal, in.RecentRestarts, in.LastExit)
	}
}

// A crash loop is still one after jack server restarts: the restart
// counts of each slot are kept in the store, and go on from there.
func TestRestartCountsSurviveARestartOfTheDaemon(t *testing.T) {
	h := newHarness(t)
	h.deploy(jack.DeployRequest{Image: "notes:v1"})
	killWeb1 := func(code int) {
		t.Helper()
		old := h.instances()["web.1"].ID
		h.rt.exit(old, code)
		eventually(t, "a replacement of web.1", func() bool {
			in := h.instances()["web.1"]
			return in != nil && in.ID != old && in.State == jack.InstanceHealthy
		})
	}
	killWeb1(3)

	h.o.Close()
	h.start()
	in := h.instances()["web.1"]
	if in == nil || in.RestartsTotal != 1 || in.RecentRestarts != 1 || !strings.Contains(in.LastExit, "code 3") {
		t.Fatalf("after a restart of the daemon, web.1: %+v; want 1 restart, recent, code 3", in)
	}
	killWeb1(4)
	if in := h.instances()["web.1"]; in.RestartsTotal != 2 || in.RecentRestarts != 2 || !strings.Contains(in.LastExit, "code 4") {
		t.Errorf("the next death: total %d, recent %d, last %q; want 2, 2, code 4", in.RestartsTotal, in.RecentRestarts, in.LastExit)
	}
}

// noticeHarness is a harness whose orchestrator records its deployment
// notices.
func noticeHarness(t *testing.T) (*harness, func() []string) {
	h := newHarness(t)
	var mu sync.Mutex
	var got []string
	h.o.Close()
	h.o = New(Config{
		Store: h.store, Runtime: h.rt, Router: h.tables, Owner: "test", HealInterval: 100 * time.Millisecond,
		OnDeployment: func(n jack.DeployNotice) {
			mu.Lock()
			got = append(got, n.Event+":"+n.Deployment.State+":"+n.Env.Ref())
			mu.Unlock()
		},
	})
	if err := h.o.Open(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.o.Close() })
	return h, func() []string {
		mu.Lock()
		defer mu.Unlock()
		return append([]string(nil), got...)
	}
}

// waitNotices waits for the notices to be want (they are told just after a
// deployment's end is visible).
func waitNotices(t *testing.T, notices func() []string, want []string) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for strings.Join(notices(), " ") != strings.Join(want, " ") {
		if time.Now().After(deadline) {
			t.Fatalf("notices %v; want %v", notices(), want)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// Deployments tell OnDeployment when they start and how they end; a failed
// one that was undone is also "rolled back".
func TestOnDeploymentNoticesOfAFailedDeploy(t *testing.T) {
	h, notices := noticeHarness(t)
	h.rt.addImage("notes:bad", fakeImage{exitAtStart: 3})
	h.deploy(jack.DeployRequest{Image: "notes:v1"})
	h.deploy(jack.DeployRequest{Image: "notes:bad"})
	waitNotices(t, notices, []string{
		"deploy.started:running:notes/production", "deploy.succeeded:succeeded:notes/production",
		"deploy.started:running:notes/production", "deploy.failed:failed:notes/production", "deploy.rolled_back:failed:notes/production",
	})
}

// A rollback that serves is told as "rolled back".
func TestOnDeploymentNoticesOfARollback(t *testing.T) {
	h, notices := noticeHarness(t)
	h.deploy(jack.DeployRequest{Image: "notes:v1"})
	h.deploy(jack.DeployRequest{Image: "notes:v2"})
	h.mustSucceed(h.o.Rollback(context.Background(), "notes", "production", 0, jack.ReleaseOptions{}))
	waitNotices(t, notices, []string{
		"deploy.started:running:notes/production", "deploy.succeeded:succeeded:notes/production",
		"deploy.started:running:notes/production", "deploy.succeeded:succeeded:notes/production",
		"deploy.started:running:notes/production", "deploy.rolled_back:succeeded:notes/production",
	})
}
