package sqlite_test

import (
	"context"
	"reflect"
	"testing"
	"time"

	"github.com/jack-paas/jack"
)

func TestRuns_StoreListAndEnd(t *testing.T) {
	ctx := context.Background()
	db := MustOpenDB(t)
	env := mustCreateEnv(t, db, mustCreateApp(t, db, "notes"), "production")

	run := &jack.Run{EnvID: env.ID, Kind: jack.KindRun, Command: []string{"python3", "manage.py", "shell"}, Process: "web", Release: 3, State: jack.RunRunning}
	if err := db.CreateRun(ctx, run); err != nil {
		t.Fatal(err)
	}
	if run.ID == 0 || !run.CreatedAt.Equal(testNow) {
		t.Fatalf("after CreateRun: %+v", run)
	}
	done := testNow.Add(time.Second)
	run.State, run.ExitCode, run.Output, run.FinishedAt = jack.RunExited, 3, []string{"a", "b"}, &done
	if err := db.UpdateRun(ctx, run); err != nil {
		t.Fatal(err)
	}
	tick := time.Date(2026, 11, 26, 3, 0, 0, 0, time.UTC)
	cron := &jack.Run{EnvID: env.ID, Kind: jack.KindCron, Job: "report", Command: []string{"report"}, State: jack.RunRunning, Tick: &tick}
	if err := db.CreateRun(ctx, cron); err != nil {
		t.Fatal(err)
	}
	again := &jack.Run{EnvID: env.ID, Kind: jack.KindCron, Job: "report", Command: []string{"report"}, State: jack.RunRunning, Tick: &tick}
	if err := db.CreateRun(ctx, again); jack.ErrorCode(err) != jack.ECONFLICT {
		t.Fatalf("a second run of the same tick: %v, want ECONFLICT", err)
	}
	if last, err := db.LastCronTick(ctx, env.ID, "report"); err != nil || !last.Equal(tick) {
		t.Fatalf("LastCronTick = %s, %v", last, err)
	}
	if last, err := db.LastCronTick(ctx, env.ID, "other"); err != nil || !last.IsZero() {
		t.Fatalf("LastCronTick of a job without runs = %s, %v", last, err)
	}

	all, err := db.ListRuns(ctx, env.ID, "", "", 0)
	if err != nil || len(all) != 2 || all[0].ID != cron.ID || !reflect.DeepEqual(all[1], run) {
		t.Fatalf("ListRuns = %+v, %v\nwant %+v", all, err, run)
	}
	if crons, _ := db.ListRuns(ctx, env.ID, jack.KindCron, "report", 1); len(crons) != 1 || crons[0].ID != cron.ID {
		t.Fatalf("cron runs = %+v", crons)
	}
	if n, err := db.EndRunningRuns(ctx, "interrupted"); err != nil || n != 1 {
		t.Fatalf("EndRunningRuns = %d, %v", n, err)
	}
	ended, _ := db.ListRuns(ctx, env.ID, jack.KindCron, "", 0)
	if ended[0].State != jack.RunFailed || ended[0].Reason != "interrupted" || ended[0].FinishedAt == nil {
		t.Fatalf("after EndRunningRuns: %+v", ended[0])
	}
	if err := db.DeleteEnv(ctx, env.ID); err != nil {
		t.Fatal(err)
	}
	if err := db.UpdateRun(ctx, run); jack.ErrorCode(err) != jack.ENOTFOUND {
		t.Fatalf("UpdateRun of a deleted environment's run: %v", err)
	}
}
