package sqlite_test

import (
	"context"
	"testing"

	"github.com/jack-paas/jack"
)

func TestApps(t *testing.T) {
	ctx := context.Background()
	db := MustOpenDB(t)

	notes := mustCreateApp(t, db, "notes")
	if notes.ID == 0 {
		t.Fatal("CreateApp did not set the ID")
	}
	if !notes.CreatedAt.Equal(testNow) {
		t.Fatalf("CreatedAt = %v, want the clock's %v", notes.CreatedAt, testNow)
	}
	mustCreateApp(t, db, "blog")

	got, err := db.FindApp(ctx, "notes")
	if err != nil {
		t.Fatal(err)
	}
	if got.ID != notes.ID || got.Name != "notes" || !got.CreatedAt.Equal(testNow) {
		t.Fatalf("FindApp = %+v, want %+v", got, notes)
	}

	apps, err := db.ListApps(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(apps) != 2 || apps[0].Name != "blog" || apps[1].Name != "notes" {
		t.Fatalf("ListApps = %v, want blog, notes", names(apps))
	}
}

func names(apps []*jack.App) []string {
	var out []string
	for _, a := range apps {
		out = append(out, a.Name)
	}
	return out
}

func TestCreateApp_NameTaken(t *testing.T) {
	db := MustOpenDB(t)
	mustCreateApp(t, db, "notes")
	err := db.CreateApp(context.Background(), &jack.App{Name: "notes"})
	assertError(t, err, jack.ECONFLICT, "app notes already exists")
}

func TestCreateApp_InvalidName(t *testing.T) {
	db := MustOpenDB(t)
	err := db.CreateApp(context.Background(), &jack.App{Name: "Notes!"})
	if jack.ErrorCode(err) != jack.EINVALID {
		t.Fatalf("err = %v, want EINVALID", err)
	}
}

func TestFindApp_Missing(t *testing.T) {
	db := MustOpenDB(t)
	_, err := db.FindApp(context.Background(), "notes")
	assertError(t, err, jack.ENOTFOUND, "app notes does not exist; create it with `jack apps create notes`")
}

func TestDeleteApp_RefusedWhileItHasEnvironments(t *testing.T) {
	ctx := context.Background()
	db := MustOpenDB(t)
	app := mustCreateApp(t, db, "notes")
	mustCreateEnv(t, db, app, "production")
	mustCreateEnv(t, db, app, "staging")

	err := db.DeleteApp(ctx, app.ID)
	assertError(t, err, jack.ECONFLICT, "app notes has environments (production, staging); delete them first")
	if _, err := db.FindApp(ctx, "notes"); err != nil {
		t.Fatalf("app gone after a refused delete: %v", err)
	}
}

func TestDeleteApp_RemovesVersions(t *testing.T) {
	ctx := context.Background()
	db := MustOpenDB(t)
	app := mustCreateApp(t, db, "notes")
	v := mustCreateVersion(t, db, app, "")
	env := mustCreateEnv(t, db, app, "staging")
	mustCreateRelease(t, db, env, v)
	if err := db.DeleteEnv(ctx, env.ID); err != nil {
		t.Fatal(err)
	}

	if err := db.DeleteApp(ctx, app.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := db.FindApp(ctx, "notes"); jack.ErrorCode(err) != jack.ENOTFOUND {
		t.Fatalf("FindApp after delete: %v, want ENOTFOUND", err)
	}
	if _, err := db.FindVersionByID(ctx, v.ID); jack.ErrorCode(err) != jack.ENOTFOUND {
		t.Fatalf("version after deleting its app: %v, want ENOTFOUND", err)
	}

	// The name is free again, and the new app starts its versions at 1.
	again := mustCreateApp(t, db, "notes")
	if v2 := mustCreateVersion(t, db, again, ""); v2.Number != 1 || v2.Label != "v1" {
		t.Fatalf("first version of the new app = %d %s, want 1 v1", v2.Number, v2.Label)
	}
}

func TestDeleteApp_Missing(t *testing.T) {
	db := MustOpenDB(t)
	err := db.DeleteApp(context.Background(), 42)
	assertError(t, err, jack.ENOTFOUND, "app 42 does not exist; see `jack apps`")
}
