package sqlite_test

import (
	"context"
	"reflect"
	"strconv"
	"testing"
	"time"

	"github.com/jack-paas/jack"
)

func itoa(id int64) string { return strconv.FormatInt(id, 10) }

func TestVersions_RoundTrip(t *testing.T) {
	ctx := context.Background()
	db := MustOpenDB(t)
	app := mustCreateApp(t, db, "notes")

	manifest := &jack.Manifest{
		Processes: map[string]*jack.Process{
			"web": {
				Command: []string{"gunicorn", "notes.wsgi"}, Port: 8000, Instances: 2,
				Health: &jack.HealthCheck{Path: "/health/", Interval: jack.Duration(2 * time.Second), Timeout: jack.Duration(5 * time.Second)},
				Memory: 512 << 20, CPUs: 1.5, Stop: jack.Duration(10 * time.Second),
			},
			"worker": {Command: []string{"celery", "worker"}, Instances: 1},
		},
		Deploy: jack.DeployPolicy{Strategy: jack.StrategyRolling, Batch: 1, Drain: jack.Duration(30 * time.Second), Timeout: jack.Duration(10 * time.Minute)},
	}
	v := &jack.Version{
		AppID: app.ID, Image: "notes:v1", ImageID: "sha256:1234", Digest: "notes@sha256:5678",
		Manifest: manifest, Source: "jack.yaml", ManifestText: "processes: {}\n",
	}
	if err := db.CreateVersion(ctx, v); err != nil {
		t.Fatal(err)
	}
	if v.ID == 0 || v.Number != 1 || v.Label != "v1" || !v.CreatedAt.Equal(testNow) {
		t.Fatalf("after CreateVersion: %+v", v)
	}

	got, err := db.FindVersion(ctx, app.ID, "v1")
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, v) {
		t.Fatalf("FindVersion =\n%+v\nwant\n%+v", got, v)
	}
	byID, err := db.FindVersionByID(ctx, v.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(byID, v) {
		t.Fatalf("FindVersionByID =\n%+v\nwant\n%+v", byID, v)
	}
}

func TestVersions_NumberedPerAppAndListedNewestFirst(t *testing.T) {
	ctx := context.Background()
	db := MustOpenDB(t)
	notes := mustCreateApp(t, db, "notes")
	blog := mustCreateApp(t, db, "blog")
	mustCreateVersion(t, db, notes, "")
	mustCreateVersion(t, db, notes, "release-2025")
	mustCreateVersion(t, db, blog, "")
	third := mustCreateVersion(t, db, notes, "")
	if third.Number != 3 || third.Label != "v3" {
		t.Fatalf("third version = %d %s, want 3 v3", third.Number, third.Label)
	}

	vs, err := db.ListVersions(ctx, notes.ID)
	if err != nil {
		t.Fatal(err)
	}
	var labels []string
	for _, v := range vs {
		labels = append(labels, v.Label)
	}
	if want := []string{"v3", "release-2025", "v1"}; !reflect.DeepEqual(labels, want) {
		t.Fatalf("ListVersions = %q, want %q", labels, want)
	}
}

func TestCreateVersion_LabelTaken(t *testing.T) {
	db := MustOpenDB(t)
	app := mustCreateApp(t, db, "notes")
	mustCreateVersion(t, db, app, "")
	mustCreateVersion(t, db, app, "v3")
	mustCreateVersion(t, db, mustCreateApp(t, db, "blog"), "v3") // another app may use it

	err := db.CreateVersion(context.Background(), &jack.Version{AppID: app.ID, Label: "v3", Image: "notes:x"})
	assertError(t, err, jack.ECONFLICT, "version label v3 already exists for notes; choose another --label")
	// Nor may the default label of version 3 clash with the given one.
	err = db.CreateVersion(context.Background(), &jack.Version{AppID: app.ID, Image: "notes:x"})
	assertError(t, err, jack.ECONFLICT, "version label v3 already exists for notes; choose another --label")
}

func TestFindVersion_Missing(t *testing.T) {
	ctx := context.Background()
	db := MustOpenDB(t)
	app := mustCreateApp(t, db, "notes")
	_, err := db.FindVersion(ctx, app.ID, "v9")
	assertError(t, err, jack.ENOTFOUND, "version v9 of notes does not exist; see `jack versions notes`")
	_, err = db.FindVersionByID(ctx, 99)
	assertError(t, err, jack.ENOTFOUND, "version 99 does not exist")
	err = db.CreateVersion(ctx, &jack.Version{AppID: 77})
	assertError(t, err, jack.ENOTFOUND, "app 77 does not exist; see `jack apps`")
}
