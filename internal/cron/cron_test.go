package cron

import (
	"context"
	"path/filepath"
	"sync"
	"testing"
	"time"

	jack "github.com/jack-paas/jack"
	"github.com/jack-paas/jack/internal/sqlite"
)

// recorder is a Runner that records ticks in the store as the
// orchestrator does, and remembers the ticks it started.
type recorder struct {
	store jack.Store
	mu    sync.Mutex
	ticks []time.Time
}

func (r *recorder) StartCronTick(ctx context.Context, env *jack.Environment, rel *jack.Release, v *jack.Version, job *jack.CronJob, tick time.Time) (bool, error) {
	run := &jack.Run{EnvID: env.ID, Kind: jack.KindCron, Job: job.Name, Command: job.Command, State: jack.RunExited, Tick: &tick}
	if err := r.store.CreateRun(ctx, run); jack.ErrorCode(err) == jack.ECONFLICT {
		return false, nil
	} else if err != nil {
		return false, err
	}
	r.mu.Lock()
	r.ticks = append(r.ticks, tick)
	r.mu.Unlock()
	return true, nil
}

// setup makes an environment whose release runs job every 10s, made at
// created.
func setup(t *testing.T, created time.Time) *sqlite.DB {
	t.Helper()
	db, err := sqlite.Open(filepath.Join(t.TempDir(), "jack.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	db.Now = func() time.Time { return created }
	ctx := context.Background()
	app := &jack.App{Name: "notes"}
	must(t, db.CreateApp(ctx, app))
	env := &jack.Environment{AppID: app.ID, App: "notes", Name: "production", Tier: jack.TierWeb}
	must(t, db.CreateEnv(ctx, env))
	m := &jack.Manifest{Cron: []*jack.CronJob{{Name: "tick", Schedule: "@every 10s", Command: []string{"date"}}}}
	v := &jack.Version{AppID: app.ID, Image: "notes:v1", ImageID: "sha256:1", Manifest: m.WithDefaults(jack.ImageInfo{})}
	must(t, db.CreateVersion(ctx, v))
	rel := &jack.Release{EnvID: env.ID, VersionID: v.ID}
	must(t, db.CreateRelease(ctx, rel))
	env.Release = rel.Number
	must(t, db.UpdateEnv(ctx, env))
	return db
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func TestEachTickRunsOnceAcrossRestarts(t *testing.T) {
	base := time.Date(2026, 11, 26, 10, 0, 3, 0, time.UTC)
	db := setup(t, base)
	rec := &recorder{store: db}
	now := base
	start := func() *Scheduler {
		s := New(db, rec, nil)
		s.Now = func() time.Time { return now }
		return s
	}
	ctx := context.Background()
	s := start()
	s.Pass(ctx) // 10:00:03: the 10:00:00 tick came before the job existed
	for _, at := range []string{"10:00:09", "10:00:10", "10:00:11", "10:00:19.5", "10:00:20"} {
		now, _ = time.Parse("2006-01-02 15:04:05", "2026-11-26 "+at)
		s.Pass(ctx)
	}
	// A restart: a new scheduler, between ticks and at a tick already run.
	s = start()
	s.Pass(ctx)
	// Down across two ticks (30s and 40s): only the newest runs, once.
	now = base.Add(40 * time.Second)
	s = start()
	s.Pass(ctx)
	s.Pass(ctx)
	// A pass that comes late while the scheduler runs fires every tick
	// it missed.
	now = base.Add(75 * time.Second)
	s.Pass(ctx)
	want := []string{"10:00:10", "10:00:20", "10:00:40", "10:00:50", "10:01:00", "10:01:10"}
	if len(rec.ticks) != len(want) {
		t.Fatalf("ticks %v, want %v", rec.ticks, want)
	}
	for i, tick := range rec.ticks {
		if tick.Format("15:04:05") != want[i] {
			t.Fatalf("ticks %v, want %v", rec.ticks, want)
		}
	}
}
