package sqlite_test

import (
	"context"
	"reflect"
	"testing"
	"time"

	"github.com/jack-paas/jack"
)

func TestDeployments_RoundTrip(t *testing.T) {
	ctx := context.Background()
	db := MustOpenDB(t)
	app := mustCreateApp(t, db, "notes")
	env := mustCreateEnv(t, db, app, "production")
	v := mustCreateVersion(t, db, app, "")
	mustCreateRelease(t, db, env, v)
	r := mustCreateRelease(t, db, env, v)

	d := &jack.Deployment{EnvID: env.ID, ReleaseID: r.ID, FromRelease: 1, Kind: "deploy"}
	if err := db.CreateDeployment(ctx, d); err != nil {
		t.Fatal(err)
	}
	if d.ID == 0 || d.State != jack.DeploymentPending || d.Env != "notes/production" || d.ReleaseNumber != 2 ||
		!d.CreatedAt.Equal(testNow) {
		t.Fatalf("after CreateDeployment: %+v", d)
	}

	finished := testNow.Add(42 * time.Second)
	d.State = jack.DeploymentFailed
	d.Steps = []jack.Step{{Time: testNow, Message: "starting web.1"}, {Time: testNow.Add(time.Second), Message: "web.1 exited"}}
	d.Reason = "web.1 exited with status 1"
	d.Output = []string{"Traceback:", "ImportError: no module named notes"}
	d.FinishedAt = &finished
	if err := db.UpdateDeployment(ctx, d); err != nil {
		t.Fatal(err)
	}
	got, err := db.FindDeployment(ctx, d.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, d) {
		t.Fatalf("FindDeployment =\n%+v\nwant\n%+v", got, d)
	}
}

func TestCreateDeployment_ConflictWhileOneHasNotEnded(t *testing.T) {
	ctx := context.Background()
	db := MustOpenDB(t)
	app := mustCreateApp(t, db, "notes")
	env := mustCreateEnv(t, db, app, "production")
	other := mustCreateEnv(t, db, app, "staging")
	v := mustCreateVersion(t, db, app, "")
	r := mustCreateRelease(t, db, env, v)

	for _, state := range []string{jack.DeploymentPending, jack.DeploymentRunning} {
		first := &jack.Deployment{EnvID: env.ID, ReleaseID: r.ID, Kind: "deploy", State: state}
		if err := db.CreateDeployment(ctx, first); err != nil {
			t.Fatal(err)
		}
		err := db.CreateDeployment(ctx, &jack.Deployment{EnvID: env.ID, ReleaseID: r.ID, Kind: "deploy"})
		assertError(t, err, jack.ECONFLICT,
			"notes/production is already deploying (deployment "+itoa(first.ID)+"); wait for it to finish")

		// Another environment deploys meanwhile.
		otherD := &jack.Deployment{EnvID: other.ID, ReleaseID: mustCreateRelease(t, db, other, v).ID, Kind: "deploy"}
		if err := db.CreateDeployment(ctx, otherD); err != nil {
			t.Fatal(err)
		}
		otherD.State = jack.DeploymentSucceeded
		if err := db.UpdateDeployment(ctx, otherD); err != nil {
			t.Fatal(err)
		}

		// Once it ends, the next may start.
		first.State = jack.DeploymentSucceeded
		if err := db.UpdateDeployment(ctx, first); err != nil {
			t.Fatal(err)
		}
	}
	next := &jack.Deployment{EnvID: env.ID, ReleaseID: r.ID, Kind: "restart"}
	if err := db.CreateDeployment(ctx, next); err != nil {
		t.Fatal(err)
	}

	// Nor may an ended deployment start again beside it.
	old, err := db.ListDeployments(ctx, env.ID, 1, jack.DeploymentSucceeded)
	if err != nil || len(old) != 1 {
		t.Fatalf("ListDeployments: %v, %v", old, err)
	}
	old[0].State = jack.DeploymentRunning
	assertError(t, db.UpdateDeployment(ctx, old[0]), jack.ECONFLICT,
		"notes/production is already deploying (deployment "+itoa(next.ID)+"); wait for it to finish")
}

func TestCreateDeployment_Refusals(t *testing.T) {
	ctx := context.Background()
	db := MustOpenDB(t)
	app := mustCreateApp(t, db, "notes")
	env := mustCreateEnv(t, db, app, "production")
	other := mustCreateEnv(t, db, app, "staging")
	otherRelease := mustCreateRelease(t, db, other, mustCreateVersion(t, db, app, ""))

	err := db.CreateDeployment(ctx, &jack.Deployment{EnvID: env.ID, ReleaseID: otherRelease.ID})
	assertError(t, err, jack.ENOTFOUND, "release "+itoa(otherRelease.ID)+" is not a release of notes/production")
	err = db.CreateDeployment(ctx, &jack.Deployment{EnvID: env.ID, ReleaseID: otherRelease.ID, State: jack.DeploymentSucceeded})
	assertError(t, err, jack.EINVALID, "a new deployment must be pending or running, not succeeded")
	err = db.UpdateDeployment(ctx, &jack.Deployment{ID: 99, State: jack.DeploymentFailed})
	assertError(t, err, jack.ENOTFOUND, "deployment 99 does not exist")
	_, err = db.FindDeployment(ctx, 99)
	assertError(t, err, jack.ENOTFOUND, "deployment 99 does not exist")
}

func TestListDeployments(t *testing.T) {
	ctx := context.Background()
	db := MustOpenDB(t)
	app := mustCreateApp(t, db, "notes")
	v := mustCreateVersion(t, db, app, "")
	prod := mustCreateEnv(t, db, app, "production")
	staging := mustCreateEnv(t, db, app, "staging")

	// prod: failed, succeeded, running; staging: succeeded.
	var ids []int64
	add := func(env *jack.Environment, final string) {
		t.Helper()
		d := &jack.Deployment{EnvID: env.ID, ReleaseID: mustCreateRelease(t, db, env, v).ID, Kind: "deploy", State: jack.DeploymentRunning}
		if err := db.CreateDeployment(ctx, d); err != nil {
			t.Fatal(err)
		}
		if final != jack.DeploymentRunning {
			d.State = final
			if err := db.UpdateDeployment(ctx, d); err != nil {
				t.Fatal(err)
			}
		}
		ids = append(ids, d.ID)
	}
	add(prod, jack.DeploymentFailed)
	add(prod, jack.DeploymentSucceeded)
	add(staging, jack.DeploymentSucceeded)
	add(prod, jack.DeploymentRunning)

	list := func(envID int64, limit int, states ...string) []int64 {
		t.Helper()
		ds, err := db.ListDeployments(ctx, envID, limit, states...)
		if err != nil {
			t.Fatal(err)
		}
		out := []int64{}
		for _, d := range ds {
			if d.Env == "" || d.ReleaseNumber == 0 {
				t.Fatalf("listed deployment lacks Env or ReleaseNumber: %+v", d)
			}
			out = append(out, d.ID)
		}
		return out
	}
	for _, tc := range []struct {
		name   string
		envID  int64
		limit  int
		states []string
		want   []int64
	}{
		{"all of prod", prod.ID, 0, nil, []int64{ids[3], ids[1], ids[0]}},
		{"limited", prod.ID, 2, nil, []int64{ids[3], ids[1]}},
		{"every env", 0, 0, nil, []int64{ids[3], ids[2], ids[1], ids[0]}},
		{"active anywhere", 0, 10, []string{jack.DeploymentPending, jack.DeploymentRunning}, []int64{ids[3]}},
		{"succeeded anywhere", 0, 10, []string{jack.DeploymentSucceeded}, []int64{ids[2], ids[1]}},
		{"latest succeeded of prod", prod.ID, 1, []string{jack.DeploymentSucceeded}, []int64{ids[1]}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := list(tc.envID, tc.limit, tc.states...); !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("got %v, want %v", got, tc.want)
			}
		})
	}
}

func TestADeploymentThatBeginsBeforeItsReleaseGetsItOnce(t *testing.T) {
	ctx := context.Background()
	db := MustOpenDB(t)
	app := mustCreateApp(t, db, "notes")
	env := mustCreateEnv(t, db, app, "production")
	other := mustCreateEnv(t, db, app, "staging")

	d := &jack.Deployment{EnvID: env.ID, Kind: jack.KindDeploy, State: jack.DeploymentRunning}
	if err := db.CreateDeployment(ctx, d); err != nil {
		t.Fatal(err)
	}
	if got, err := db.FindDeployment(ctx, d.ID); err != nil || got.ReleaseID != 0 || got.ReleaseNumber != 0 {
		t.Fatalf("a deployment preparing its release: %+v, %v", got, err)
	}
	if list, err := db.ListDeployments(ctx, env.ID, 10); err != nil || len(list) != 1 {
		t.Fatalf("ListDeployments = %+v, %v", list, err)
	}
	v := mustCreateVersion(t, db, app, "")
	r := mustCreateRelease(t, db, env, v)
	d.ReleaseID = r.ID
	d.Steps = []jack.Step{{Time: testNow, Message: "Pulled notes:v1"}}
	if err := db.UpdateDeployment(ctx, d); err != nil {
		t.Fatal(err)
	}
	if got, _ := db.FindDeployment(ctx, d.ID); got.ReleaseID != r.ID || got.ReleaseNumber != r.Number || len(got.Steps) != 1 {
		t.Fatalf("after its release was made: %+v", got)
	}
	// Its release never changes again, nor can it be another environment's.
	r2 := mustCreateRelease(t, db, env, v)
	d.ReleaseID = r2.ID
	assertError(t, db.UpdateDeployment(ctx, d), jack.ECONFLICT, "deployment 1 already deploys release 1")
	foreign := mustCreateRelease(t, db, other, v)
	d2 := &jack.Deployment{EnvID: env.ID, Kind: jack.KindDeploy, State: jack.DeploymentFailed}
	d.State = jack.DeploymentFailed
	d.ReleaseID = r.ID
	db.UpdateDeployment(ctx, d)
	d2.State = jack.DeploymentRunning
	if err := db.CreateDeployment(ctx, d2); err != nil {
		t.Fatal(err)
	}
	d2.ReleaseID = foreign.ID
	if err := db.UpdateDeployment(ctx, d2); jack.ErrorCode(err) != jack.ENOTFOUND {
		t.Fatalf("setting another environment's release: %v", err)
	}
}
