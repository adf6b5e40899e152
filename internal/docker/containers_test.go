package docker

import (
	"context"
	"net/http"
	"sort"
	"strings"
	"testing"
	"time"

	jack "github.com/jack-paas/jack"
)

func TestListRebuildsInstancesFromLabels(t *testing.T) {
	r, cli := newRuntime(t)
	image := testImage(t, cli)
	ctx := context.Background()
	web := start(t, r, webSpec(image, 1))
	crashed := start(t, r, webSpec(image, 2, "EXIT_AT_START=3"))
	staging := webSpec(image, 1)
	staging.Env = "staging"
	start(t, r, staging)
	waitExited(t, r, crashed.ID)

	list, err := r.List(ctx, "notes", "production")
	if err != nil {
		t.Fatal(err)
	}
	sort.Slice(list, func(i, j int) bool { return list[i].Slot < list[j].Slot })
	if len(list) != 2 || list[0].ID != web.ID || list[1].ID != crashed.ID {
		t.Fatalf("List(notes, production) = %v; want the two production instances", ids(list))
	}
	got := *list[0]
	want := jack.Container{ID: web.ID, Owner: testOwner, App: "notes", Env: "production", Process: "web", Slot: 1, Release: 3,
		Version: "v2", Deployment: 42, Spec: "abc123", Kind: jack.KindInstance, StopTimeout: 5 * time.Second, Address: web.Address, Running: true}
	got.StartedAt = time.Time{}
	if got != want {
		t.Errorf("running instance listed as\n%+v\nwant\n%+v", got, want)
	}
	if list[0].StartedAt.IsZero() {
		t.Error("running instance has no start time")
	}
	if c := list[1]; c.Running || c.ExitCode != 3 || c.FinishedAt.IsZero() || c.Address != "" {
		t.Errorf("crashed instance listed as %+v; want not running, exit code 3, a finish time, no address", *c)
	}

	all, err := r.List(ctx, "notes", "")
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != 3 {
		t.Errorf("List(notes, \"\") = %d instances, want 3", len(all))
	}
	if none, _ := r.List(ctx, "other", ""); len(none) != 0 {
		t.Errorf("List(other) = %v, want none", ids(none))
	}
}

func TestListSeesOnlyItsOwnersInstances(t *testing.T) {
	r, cli := newRuntime(t)
	mine := start(t, r, webSpec(testImage(t, cli), 1))
	other, _ := newRuntimeOf(t, "other-owner")
	theirs := start(t, other, webSpec(testImage(t, cli), 1))

	for _, c := range []struct {
		r    *Runtime
		want string
	}{{r, mine.ID}, {other, theirs.ID}} {
		list, err := c.r.List(context.Background(), "notes", "production")
		if err != nil {
			t.Fatal(err)
		}
		if len(list) != 1 || list[0].ID != c.want || list[0].Owner != c.r.owner {
			t.Errorf("runtime of %s lists %v; want only %.12s", c.r.owner, ids(list), c.want)
		}
	}

	// Extra labels narrow what a runtime sees the same way.
	narrowed, _ := newRuntime(t)
	narrowed.ExtraLabels["dev.jack.test.runtime"] = "narrowed"
	if list, err := narrowed.List(context.Background(), "notes", "production"); err != nil || len(list) != 0 {
		t.Errorf("a runtime with extra labels lists %v, %v; want nothing", ids(list), err)
	}
}

func TestInspectOfAGoneContainerIsNotFound(t *testing.T) {
	r, _ := newRuntime(t)
	_, err := r.Inspect(context.Background(), "0123456789ab0123456789ab")
	if jack.ErrorCode(err) != jack.ENOTFOUND {
		t.Errorf("Inspect of a missing container = %v (%s); want ENOTFOUND", err, jack.ErrorCode(err))
	}
}

func TestExitedInstanceShowsItsExitCodeAndOutput(t *testing.T) {
	r, cli := newRuntime(t)
	c := start(t, r, webSpec(testImage(t, cli), 1, "EXIT_AT_START=3"))
	exited := waitExited(t, r, c.ID)
	// The engine may stamp a process that exits at once as finished a
	// moment before it started: only both times being known is certain.
	if exited.ExitCode != 3 || exited.OOMKilled || exited.StartedAt.IsZero() || exited.FinishedAt.IsZero() {
		t.Errorf("exited instance = %+v; want exit code 3 and its start and finish times", *exited)
	}
	lines, err := r.Logs(context.Background(), c.ID, 5)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(lines, "\n") != "boom: failing on purpose" {
		t.Errorf("Logs = %q; want the app's last words", lines)
	}
}

func TestOutOfMemoryInstanceIsReportedOOMKilled(t *testing.T) {
	r, cli := newRuntime(t)
	spec := webSpec(testImage(t, cli), 1)
	spec.Memory = 16 << 20
	c := start(t, r, spec)
	// Ask the app to hold more than its limit.
	get(t, "http://"+c.Address+"/health")
	go http.Get("http://" + c.Address + "/alloc?mb=64")
	exited := waitExited(t, r, c.ID)
	if !exited.OOMKilled || exited.ExitCode != 137 {
		t.Errorf("instance over its memory = %+v; want OOMKilled with exit code 137", *exited)
	}
}

func ids(list []*jack.Container) []string {
	var out []string
	for _, c := range list {
		out = append(out, c.ID[:12]+" "+c.Env+" "+c.Name())
	}
	return out
}
