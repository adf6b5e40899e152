package sqlite_test

import (
	"context"
	"testing"
	"time"

	"github.com/jack-paas/jack"
)

func TestRollups_ReplaceListPrune(t *testing.T) {
	ctx := context.Background()
	db := MustOpenDB(t)
	env := mustCreateEnv(t, db, mustCreateApp(t, db, "notes"), "production")
	m0 := time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)
	save := func(rs ...*jack.Rollup) {
		t.Helper()
		if err := db.SaveRollups(ctx, rs); err != nil {
			t.Fatal(err)
		}
	}
	save(
		&jack.Rollup{EnvID: env.ID, Minute: m0, Instances: 2, CPUPercent: 10, Requests: 100, Errors: 3, P95: 0.2, MemoryMax: 5 << 30},
		&jack.Rollup{EnvID: env.ID, Process: "web", Minute: m0, Instances: 2, CPUPercent: 10},
		&jack.Rollup{EnvID: env.ID, Minute: m0.Add(time.Minute), Instances: 2},
		&jack.Rollup{EnvID: env.ID + 99, Minute: m0}, // a deleted environment: skipped
	)
	save(&jack.Rollup{EnvID: env.ID, Minute: m0, Instances: 3, Requests: 120}) // replaces

	got, err := db.ListRollups(ctx, env.ID, "", m0)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].Instances != 3 || got[0].Requests != 120 || !got[0].Minute.Equal(m0) {
		t.Fatalf("ListRollups = %+v; want the replaced minute then the next", got)
	}
	all, _ := db.ListRollups(ctx, env.ID, "*", m0)
	web, _ := db.ListRollups(ctx, env.ID, "web", m0)
	if len(all) != 3 || len(web) != 1 || web[0].Process != "web" {
		t.Fatalf("every process: %d rollups, web: %+v", len(all), web)
	}
	if err := db.PruneRollups(ctx, m0.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	if got, _ := db.ListRollups(ctx, env.ID, "*", time.Time{}); len(got) != 1 || !got[0].Minute.Equal(m0.Add(time.Minute)) {
		t.Fatalf("after prune: %+v", got)
	}
}

func TestCountDeployments(t *testing.T) {
	ctx := context.Background()
	db := MustOpenDB(t)
	app := mustCreateApp(t, db, "notes")
	env := mustCreateEnv(t, db, app, "production")
	v := mustCreateVersion(t, db, app, "v1")
	for _, state := range []string{jack.DeploymentSucceeded, jack.DeploymentFailed, jack.DeploymentSucceeded} {
		rel := &jack.Release{EnvID: env.ID, VersionID: v.ID}
		if err := db.CreateRelease(ctx, rel); err != nil {
			t.Fatal(err)
		}
		d := &jack.Deployment{EnvID: env.ID, ReleaseID: rel.ID, State: jack.DeploymentRunning}
		if err := db.CreateDeployment(ctx, d); err != nil {
			t.Fatal(err)
		}
		d.State = state
		if err := db.UpdateDeployment(ctx, d); err != nil {
			t.Fatal(err)
		}
	}
	counts, err := db.CountDeployments(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := []jack.DeploymentCount{{EnvID: env.ID, State: jack.DeploymentFailed, Count: 1}, {EnvID: env.ID, State: jack.DeploymentSucceeded, Count: 2}}
	if len(counts) != 2 || counts[0] != want[0] || counts[1] != want[1] {
		t.Fatalf("CountDeployments = %+v; want %+v", counts, want)
	}
}

func TestHooks_AddListDeleteAndDeliveries(t *testing.T) {
	ctx := context.Background()
	db := MustOpenDB(t)
	env := mustCreateEnv(t, db, mustCreateApp(t, db, "notes"), "production")

	h := &jack.Hook{EnvID: env.ID, URL: "https://hooks.example.com/a", Secret: "s3"}
	if err := db.CreateHook(ctx, h); err != nil {
		t.Fatal(err)
	}
	if err := db.CreateHook(ctx, &jack.Hook{EnvID: env.ID, URL: h.URL, Secret: "x"}); jack.ErrorCode(err) != jack.ECONFLICT {
		t.Errorf("same URL twice: %v; want ECONFLICT", err)
	}
	if err := db.CreateHook(ctx, &jack.Hook{EnvID: env.ID, URL: "ftp://x", Secret: "x"}); jack.ErrorCode(err) != jack.EINVALID {
		t.Errorf("ftp URL: %v; want EINVALID", err)
	}
	hooks, err := db.ListHooks(ctx, env.ID)
	if err != nil || len(hooks) != 1 || hooks[0].Secret != "s3" || hooks[0].URL != h.URL {
		t.Fatalf("ListHooks = %+v, %v", hooks, err)
	}

	now := testNow
	d := &jack.Delivery{HookID: h.ID, EnvID: env.ID, Event: jack.HookDeployStarted, Payload: `{"text":"x"}`, State: jack.DeliveryPending, NextAttempt: now.Add(time.Minute)}
	if err := db.CreateDelivery(ctx, d); err != nil {
		t.Fatal(err)
	}
	if due, _ := db.DueDeliveries(ctx, now, 10); len(due) != 0 {
		t.Errorf("due before its time: %+v", due)
	}
	if next, _ := db.NextDelivery(ctx); !next.Equal(now.Add(time.Minute)) {
		t.Errorf("NextDelivery = %v; want %v", next, now.Add(time.Minute))
	}
	due, err := db.DueDeliveries(ctx, now.Add(time.Minute), 10)
	if err != nil || len(due) != 1 || due[0].URL != h.URL || due[0].Payload != d.Payload {
		t.Fatalf("DueDeliveries = %+v, %v", due, err)
	}
	done := now.Add(2 * time.Minute)
	d.State, d.Attempts, d.StatusCode, d.DoneAt = jack.DeliveryDelivered, 2, 200, &done
	if err := db.UpdateDelivery(ctx, d); err != nil {
		t.Fatal(err)
	}
	if next, _ := db.NextDelivery(ctx); !next.IsZero() {
		t.Errorf("NextDelivery with none pending = %v", next)
	}
	list, _ := db.ListDeliveries(ctx, env.ID, 10)
	if len(list) != 1 || list[0].State != jack.DeliveryDelivered || list[0].Attempts != 2 || list[0].DoneAt == nil {
		t.Fatalf("ListDeliveries = %+v", list)
	}

	if err := db.DeleteHook(ctx, env.ID, h.ID); err != nil {
		t.Fatal(err)
	}
	if err := db.DeleteHook(ctx, env.ID, h.ID); jack.ErrorCode(err) != jack.ENOTFOUND {
		t.Errorf("delete twice: %v; want ENOTFOUND", err)
	}
	if list, _ := db.ListDeliveries(ctx, env.ID, 10); len(list) != 0 {
		t.Errorf("deliveries outlive their hook: %+v", list)
	}
}
