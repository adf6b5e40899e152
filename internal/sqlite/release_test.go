package sqlite_test

import (
	"context"
	"reflect"
	"testing"

	"github.com/jack-paas/jack"
)

func TestReleases_RoundTrip(t *testing.T) {
	ctx := context.Background()
	db := MustOpenDB(t)
	app := mustCreateApp(t, db, "notes")
	env := mustCreateEnv(t, db, app, "production")
	v := mustCreateVersion(t, db, app, "first")

	r := &jack.Release{
		EnvID: env.ID, VersionID: v.ID,
		Config:   map[string]string{"KEY": "va\xffl\xfe"},
		Scale:    map[string]int{"web": 2},
		Strategy: jack.StrategyAllAtOnce, Description: "Deploy first",
	}
	if err := db.CreateRelease(ctx, r); err != nil {
		t.Fatal(err)
	}
	if r.ID == 0 || r.Number != 1 || r.Version != "first" || !r.CreatedAt.Equal(testNow) {
		t.Fatalf("after CreateRelease: %+v", r)
	}
	got, err := db.FindRelease(ctx, env.ID, 1)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, r) {
		t.Fatalf("FindRelease =\n%+v\nwant\n%+v", got, r)
	}
}

func TestReleases_NumberedPerEnvironment(t *testing.T) {
	db := MustOpenDB(t)
	app := mustCreateApp(t, db, "notes")
	v := mustCreateVersion(t, db, app, "")
	prod := mustCreateEnv(t, db, app, "production")
	staging := mustCreateEnv(t, db, app, "staging")
	mustCreateRelease(t, db, prod, v)
	mustCreateRelease(t, db, prod, v)
	if r := mustCreateRelease(t, db, staging, v); r.Number != 1 {
		t.Fatalf("first staging release = %d, want 1", r.Number)
	}
	if r := mustCreateRelease(t, db, prod, v); r.Number != 3 {
		t.Fatalf("third production release = %d, want 3", r.Number)
	}
}

func TestListReleases_NewestFirstWithDeploymentState(t *testing.T) {
	ctx := context.Background()
	db := MustOpenDB(t)
	app := mustCreateApp(t, db, "notes")
	env := mustCreateEnv(t, db, app, "production")
	v1 := mustCreateVersion(t, db, app, "")
	v2 := mustCreateVersion(t, db, app, "")
	r1 := mustCreateRelease(t, db, env, v1)
	r2 := mustCreateRelease(t, db, env, v2)
	mustCreateRelease(t, db, env, v1) // never deployed

	deploy := func(r *jack.Release, final string) {
		t.Helper()
		d := &jack.Deployment{EnvID: env.ID, ReleaseID: r.ID, Kind: "deploy", State: jack.DeploymentRunning}
		if err := db.CreateDeployment(ctx, d); err != nil {
			t.Fatal(err)
		}
		d.State = final
		if err := db.UpdateDeployment(ctx, d); err != nil {
			t.Fatal(err)
		}
	}
	deploy(r1, jack.DeploymentFailed)
	deploy(r1, jack.DeploymentSucceeded) // the latest deployment of r1 counts
	deploy(r2, jack.DeploymentFailed)

	rs, err := db.ListReleases(ctx, env.ID)
	if err != nil {
		t.Fatal(err)
	}
	type row struct {
		Number  int
		Version string
		State   string
	}
	var got []row
	for _, r := range rs {
		got = append(got, row{r.Number, r.Version, r.State})
	}
	want := []row{{3, "v1", ""}, {2, "v2", jack.DeploymentFailed}, {1, "v1", jack.DeploymentSucceeded}}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("ListReleases = %+v, want %+v", got, want)
	}
}

func TestCreateRelease_Refusals(t *testing.T) {
	ctx := context.Background()
	db := MustOpenDB(t)
	notes := mustCreateApp(t, db, "notes")
	env := mustCreateEnv(t, db, notes, "production")
	blogVersion := mustCreateVersion(t, db, mustCreateApp(t, db, "blog"), "")

	err := db.CreateRelease(ctx, &jack.Release{EnvID: env.ID, VersionID: blogVersion.ID})
	assertError(t, err, jack.EINVALID, "version "+itoa(blogVersion.ID)+" is not a version of notes")
	err = db.CreateRelease(ctx, &jack.Release{EnvID: env.ID, VersionID: 999})
	assertError(t, err, jack.ENOTFOUND, "version 999 does not exist")
	err = db.CreateRelease(ctx, &jack.Release{EnvID: 999, VersionID: blogVersion.ID})
	assertError(t, err, jack.ENOTFOUND, "environment 999 does not exist; see `jack envs`")
}

func TestFindRelease_Missing(t *testing.T) {
	db := MustOpenDB(t)
	env := mustCreateEnv(t, db, mustCreateApp(t, db, "notes"), "production")
	_, err := db.FindRelease(context.Background(), env.ID, 7)
	assertError(t, err, jack.ENOTFOUND, "release 7 of notes/production does not exist; see `jack releases notes/production`")
}
