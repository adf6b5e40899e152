package sqlite_test

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jack-paas/jack"
	"github.com/jack-paas/jack/internal/sqlite"
)

// testNow is the time a test database's clock shows.
var testNow = time.Date(2025, 3, 14, 15, 9, 26, 535897932, time.UTC)

// MustOpenDB opens a database in a temporary folder, with its clock fixed
// at testNow, and closes it when the test ends.
func MustOpenDB(t testing.TB) *sqlite.DB {
	t.Helper()
	return mustOpenPath(t, filepath.Join(t.TempDir(), "jack.db"))
}

func mustOpenPath(t testing.TB, path string) *sqlite.DB {
	t.Helper()
	db, err := sqlite.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	db.Now = func() time.Time { return testNow }
	t.Cleanup(func() { db.Close() })
	return db
}

func mustCreateApp(t testing.TB, db *sqlite.DB, name string) *jack.App {
	t.Helper()
	app := &jack.App{Name: name}
	if err := db.CreateApp(context.Background(), app); err != nil {
		t.Fatal(err)
	}
	return app
}

func mustCreateEnv(t testing.TB, db *sqlite.DB, app *jack.App, name string, domains ...string) *jack.Environment {
	t.Helper()
	env := &jack.Environment{AppID: app.ID, Name: name, Tier: jack.TierWeb, Domains: domains}
	if err := db.CreateEnv(context.Background(), env); err != nil {
		t.Fatal(err)
	}
	return env
}

func mustCreateVersion(t testing.TB, db *sqlite.DB, app *jack.App, label string) *jack.Version {
	t.Helper()
	v := &jack.Version{AppID: app.ID, Label: label, Image: app.Name + ":latest", ImageID: "sha256:abc", Source: "defaults"}
	if err := db.CreateVersion(context.Background(), v); err != nil {
		t.Fatal(err)
	}
	return v
}

func mustCreateRelease(t testing.TB, db *sqlite.DB, env *jack.Environment, v *jack.Version) *jack.Release {
	t.Helper()
	r := &jack.Release{EnvID: env.ID, VersionID: v.ID, Description: "Deploy " + v.Label}
	if err := db.CreateRelease(context.Background(), r); err != nil {
		t.Fatal(err)
	}
	return r
}

// assertError fails unless err is a *jack.Error with the code and message.
func assertError(t testing.TB, err error, code, message string) {
	t.Helper()
	if err == nil {
		t.Fatalf("got no error, want %s %q", code, message)
	}
	if got := jack.ErrorCode(err); got != code {
		t.Fatalf("error code = %s (%v), want %s", got, err, code)
	}
	if got := jack.ErrorMessage(err); got != message {
		t.Fatalf("error message:\n got %q\nwant %q", got, message)
	}
}

func TestOpen_MigrationsAreIdempotent(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sub", "jack.db")
	db := mustOpenPath(t, path)
	app := mustCreateApp(t, db, "notes")
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	db = mustOpenPath(t, path)
	got, err := db.FindApp(context.Background(), "notes")
	if err != nil {
		t.Fatalf("after reopening: %v", err)
	}
	if got.ID != app.ID {
		t.Fatalf("app ID = %d, want %d", got.ID, app.ID)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	raw, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	var applied int
	if err := raw.QueryRow(`SELECT COUNT(*) FROM schema_migrations WHERE name = '0001_init.sql'`).Scan(&applied); err != nil {
		t.Fatal(err)
	}
	if applied != 1 {
		t.Fatalf("0001_init.sql recorded %d times, want once", applied)
	}
	var mode string
	if err := raw.QueryRow(`PRAGMA journal_mode`).Scan(&mode); err != nil {
		t.Fatal(err)
	}
	if mode != "wal" {
		t.Fatalf("journal mode = %q, want wal", mode)
	}
}

func TestOpen_RejectsNonFilePaths(t *testing.T) {
	for _, path := range []string{"", ":memory:", "jack.db?mode=ro"} {
		if db, err := sqlite.Open(path); err == nil {
			db.Close()
			t.Errorf("Open(%q) succeeded, want an error", path)
		}
	}
}

func TestDB_ForeignKeysAreOn(t *testing.T) {
	db := MustOpenDB(t)
	err := db.AddEvent(context.Background(), &jack.Event{EnvID: 999, Kind: "deploy", Message: "x"})
	assertError(t, err, jack.ENOTFOUND, "environment 999 does not exist; see `jack envs`")
}

func TestDB_ConcurrentWritersGetConsecutiveReleaseNumbers(t *testing.T) {
	db := MustOpenDB(t)
	app := mustCreateApp(t, db, "notes")
	env := mustCreateEnv(t, db, app, "production")
	v := mustCreateVersion(t, db, app, "")

	const writers = 20
	var wg sync.WaitGroup
	numbers := make(chan int, writers)
	errs := make(chan error, writers*2)
	for i := 0; i < writers; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := &jack.Release{EnvID: env.ID, VersionID: v.ID, Config: map[string]string{"N": fmt.Sprint(i)}}
			if err := db.CreateRelease(context.Background(), r); err != nil {
				errs <- err
				return
			}
			numbers <- r.Number
			// Readers run alongside the writers.
			if _, err := db.ListReleases(context.Background(), env.ID); err != nil {
				errs <- err
			}
			if err := db.AddEvent(context.Background(), &jack.Event{EnvID: env.ID, Kind: "deploy", Message: "x"}); err != nil {
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(numbers)
	close(errs)
	for err := range errs {
		t.Errorf("concurrent write: %v", err)
	}
	seen := map[int]bool{}
	for n := range numbers {
		if seen[n] {
			t.Errorf("release number %d given twice", n)
		}
		seen[n] = true
	}
	for n := 1; n <= writers; n++ {
		if !seen[n] {
			t.Errorf("release number %d missing; got %v", n, seen)
		}
	}
	events, err := db.ListEvents(context.Background(), env.ID, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(events) != writers {
		t.Fatalf("%d events stored, want %d", len(events), writers)
	}
}

func TestDB_ConcurrentDeploymentsOnlyOneStarts(t *testing.T) {
	db := MustOpenDB(t)
	app := mustCreateApp(t, db, "notes")
	env := mustCreateEnv(t, db, app, "production")
	r := mustCreateRelease(t, db, env, mustCreateVersion(t, db, app, ""))

	const writers = 20
	var wg sync.WaitGroup
	results := make(chan error, writers)
	for i := 0; i < writers; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results <- db.CreateDeployment(context.Background(), &jack.Deployment{
				EnvID: env.ID, ReleaseID: r.ID, Kind: "deploy", State: jack.DeploymentRunning,
			})
		}()
	}
	wg.Wait()
	close(results)
	started := 0
	for err := range results {
		switch {
		case err == nil:
			started++
		case jack.ErrorCode(err) == jack.ECONFLICT:
			if !strings.HasPrefix(err.Error(), "notes/production is already deploying (deployment ") {
				t.Errorf("conflict message = %q", err)
			}
		default:
			t.Errorf("unexpected error: %v", err)
		}
	}
	if started != 1 {
		t.Fatalf("%d deployments started, want exactly 1", started)
	}
}

func TestDB_WaitingWriterHonoursContext(t *testing.T) {
	db := MustOpenDB(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := db.CreateApp(ctx, &jack.App{Name: "notes"}); err == nil {
		t.Fatal("CreateApp with a cancelled context succeeded")
	}
	if _, err := db.FindApp(context.Background(), "notes"); jack.ErrorCode(err) != jack.ENOTFOUND {
		t.Fatalf("app stored despite the cancelled context: %v", err)
	}
}
