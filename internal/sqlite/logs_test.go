package sqlite_test

import (
	"context"
	"testing"
	"time"

	"github.com/jack-paas/jack"
)

func TestLogSettingsKeepWhatIsNotChanged(t *testing.T) {
	db := MustOpenDB(t)
	env := mustCreateEnv(t, db, mustCreateApp(t, db, "notes"), "production")
	ctx := context.Background()
	if s, err := db.LogSettings(ctx, env.ID); err != nil || s != (jack.LogSettings{}) {
		t.Fatalf("settings of a new environment %+v, %v; want zero", s, err)
	}
	db.SetLogSettings(ctx, env.ID, jack.LogSettings{Retention: 72 * time.Hour})
	db.SetLogSettings(ctx, env.ID, jack.LogSettings{MaxBytes: 500 << 20})
	if s, _ := db.LogSettings(ctx, env.ID); s.Retention != 72*time.Hour || s.MaxBytes != 500<<20 {
		t.Fatalf("settings %+v; want 72h and 500 MiB", s)
	}
	if err := db.SetLogSettings(ctx, 999, jack.LogSettings{MaxBytes: 1}); jack.ErrorCode(err) != jack.ENOTFOUND {
		t.Fatalf("settings of a missing environment: %v", err)
	}
}

func TestDrainsAreAddedListedAndDeleted(t *testing.T) {
	db := MustOpenDB(t)
	app := mustCreateApp(t, db, "notes")
	env := mustCreateEnv(t, db, app, "production")
	other := mustCreateEnv(t, db, app, "staging")
	ctx := context.Background()
	d := &jack.LogDrain{EnvID: env.ID, URL: "syslog+tls://logs.example.com:6514"}
	if err := db.AddDrain(ctx, d); err != nil || d.ID == 0 || d.CreatedAt.IsZero() {
		t.Fatalf("AddDrain: %v, %+v", err, d)
	}
	if err := db.AddDrain(ctx, &jack.LogDrain{EnvID: env.ID, URL: d.URL}); jack.ErrorCode(err) != jack.ECONFLICT {
		t.Fatalf("the same drain twice: %v", err)
	}
	db.AddDrain(ctx, &jack.LogDrain{EnvID: other.ID, URL: d.URL})
	if list, _ := db.ListDrains(ctx, env.ID); len(list) != 1 || list[0].URL != d.URL {
		t.Fatalf("drains of production %+v", list)
	}
	if list, _ := db.ListDrains(ctx, 0); len(list) != 2 {
		t.Fatalf("every drain: %d, want 2", len(list))
	}
	if _, err := db.DeleteDrain(ctx, env.ID, "https://nope.example.com"); jack.ErrorCode(err) != jack.ENOTFOUND {
		t.Fatalf("delete a missing drain: %v", err)
	}
	if got, err := db.DeleteDrain(ctx, env.ID, d.URL); err != nil || got.ID != d.ID {
		t.Fatalf("DeleteDrain: %v %+v", err, got)
	}
	if list, _ := db.ListDrains(ctx, 0); len(list) != 1 || list[0].EnvID != other.ID {
		t.Fatalf("drains left %+v", list)
	}
	if err := db.DeleteEnv(ctx, other.ID); err != nil {
		t.Fatal(err)
	}
	if list, _ := db.ListDrains(ctx, 0); len(list) != 0 {
		t.Fatalf("drains of a deleted environment kept: %+v", list)
	}
}
