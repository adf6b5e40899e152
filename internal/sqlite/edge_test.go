package sqlite_test

import (
	"context"
	"reflect"
	"testing"
	"time"

	"github.com/jack-paas/jack"
)

func TestSetDomains_ReplacesAndRefusesTakenOnes(t *testing.T) {
	ctx := context.Background()
	db := MustOpenDB(t)
	app := mustCreateApp(t, db, "notes")
	blue := mustCreateEnv(t, db, app, "blue", "www.example.com")
	green := mustCreateEnv(t, db, app, "green")

	err := db.SetDomains(ctx, green.ID, []string{"api.example.com", "WWW.example.com"})
	assertError(t, err, jack.ECONFLICT, "domain www.example.com is already used by notes/blue")
	if got, _ := db.FindEnv(ctx, "notes", "green"); len(got.Domains) != 0 {
		t.Errorf("a refused SetDomains stored %q", got.Domains)
	}
	if err := db.SetDomains(ctx, green.ID, []string{"API.example.com.", "api.example.com", "*.green.example.com"}); err != nil {
		t.Fatal(err)
	}
	got, _ := db.FindEnv(ctx, "notes", "green")
	if want := []string{"api.example.com", "*.green.example.com"}; !reflect.DeepEqual(got.Domains, want) {
		t.Errorf("domains %q, want %q", got.Domains, want)
	}
	err = db.SetDomains(ctx, blue.ID, []string{"bad_name.example.com"})
	if jack.ErrorCode(err) != jack.EINVALID {
		t.Errorf("bad domain: %v, want EINVALID", err)
	}
	assertError(t, db.SetDomains(ctx, 999, nil), jack.ENOTFOUND, jack.ErrorMessage(db.SetDomains(ctx, 999, nil)))
}

func TestSwapDomains_ExchangesBothSets(t *testing.T) {
	ctx := context.Background()
	db := MustOpenDB(t)
	app := mustCreateApp(t, db, "notes")
	blue := mustCreateEnv(t, db, app, "blue", "www.example.com", "example.com")
	green := mustCreateEnv(t, db, app, "green", "next.example.com")
	if err := db.SwapDomains(ctx, blue.ID, green.ID); err != nil {
		t.Fatal(err)
	}
	b, _ := db.FindEnv(ctx, "notes", "blue")
	g, _ := db.FindEnv(ctx, "notes", "green")
	if !reflect.DeepEqual(b.Domains, []string{"next.example.com"}) || !reflect.DeepEqual(g.Domains, []string{"www.example.com", "example.com"}) {
		t.Fatalf("after swap: blue %q, green %q", b.Domains, g.Domains)
	}
	assertError(t, db.SwapDomains(ctx, blue.ID, blue.ID), jack.EINVALID, "an environment can't swap domains with itself; name two environments")
	if err := db.SwapDomains(ctx, blue.ID, 999); jack.ErrorCode(err) != jack.ENOTFOUND {
		t.Errorf("swap with a missing environment: %v", err)
	}
	if b, _ := db.FindEnv(ctx, "notes", "blue"); !reflect.DeepEqual(b.Domains, []string{"next.example.com"}) {
		t.Errorf("a refused swap changed blue's domains to %q", b.Domains)
	}
}

func TestSetEdge_RoundTripsAndSurvivesUpdateEnv(t *testing.T) {
	ctx := context.Background()
	db := MustOpenDB(t)
	env := mustCreateEnv(t, db, mustCreateApp(t, db, "notes"), "production")
	edge := jack.EdgeSettings{BodyLimit: 10 << 20, RedirectHTTPS: true, HSTS: jack.Duration(24 * time.Hour)}
	if err := db.SetEdge(ctx, env.ID, edge); err != nil {
		t.Fatal(err)
	}
	env.Release = 3
	if err := db.UpdateEnv(ctx, env); err != nil {
		t.Fatal(err)
	}
	got, _ := db.FindEnv(ctx, "notes", "production")
	if got.Edge != edge || env.Edge != edge || got.Release != 3 {
		t.Errorf("edge %+v (UpdateEnv left %+v), release %d; want %+v", got.Edge, env.Edge, got.Release, edge)
	}
	if err := db.SetEdge(ctx, env.ID, jack.EdgeSettings{BodyLimit: -1}); jack.ErrorCode(err) != jack.EINVALID {
		t.Errorf("negative body limit: %v, want EINVALID", err)
	}
}
