package sqlite_test

import (
	"context"
	"reflect"
	"testing"

	"github.com/jack-paas/jack"
)

func TestEnvs_RoundTrip(t *testing.T) {
	ctx := context.Background()
	db := MustOpenDB(t)
	app := mustCreateApp(t, db, "notes")

	env := &jack.Environment{
		AppID:    app.ID,
		Name:     "production",
		Tier:     jack.TierWeb,
		Domains:  []string{"Notes.Example.com", "*.notes.example.com", "notes.example.COM"},
		Strategy: jack.StrategyImmutable,
		Config:   map[string]string{"SECRET_KEY": "s3cr=t", "EMPTY": ""},
		Scale:    map[string]int{"web": 3, "worker": 1},
	}
	if err := db.CreateEnv(ctx, env); err != nil {
		t.Fatal(err)
	}
	wantDomains := []string{"notes.example.com", "*.notes.example.com"}
	if env.ID == 0 || env.App != "notes" || !reflect.DeepEqual(env.Domains, wantDomains) {
		t.Fatalf("after CreateEnv: ID %d, App %q, Domains %q", env.ID, env.App, env.Domains)
	}

	got, err := db.FindEnv(ctx, "notes", "production")
	if err != nil {
		t.Fatal(err)
	}
	if got.ID != env.ID || got.AppID != app.ID || got.App != "notes" || got.Name != "production" ||
		got.Tier != jack.TierWeb || got.Strategy != jack.StrategyImmutable || got.Release != 0 ||
		!got.CreatedAt.Equal(testNow) {
		t.Fatalf("FindEnv = %+v", got)
	}
	if !reflect.DeepEqual(got.Domains, wantDomains) {
		t.Errorf("Domains = %q, want %q", got.Domains, wantDomains)
	}
	if !reflect.DeepEqual(got.Config, env.Config) {
		t.Errorf("Config = %q, want %q", got.Config, env.Config)
	}
	if !reflect.DeepEqual(got.Scale, env.Scale) {
		t.Errorf("Scale = %v, want %v", got.Scale, env.Scale)
	}

	got.Tier = jack.TierWorker
	got.Strategy = ""
	got.Domains = []string{"api.example.com"}
	got.Config = map[string]string{"A": "1"}
	got.Scale = map[string]int{"worker": 4}
	got.Release = 7
	if err := db.UpdateEnv(ctx, got); err != nil {
		t.Fatal(err)
	}
	updated, err := db.FindEnv(ctx, "notes", "production")
	if err != nil {
		t.Fatal(err)
	}
	if updated.Tier != jack.TierWorker || updated.Strategy != "" || updated.Release != 7 ||
		!reflect.DeepEqual(updated.Config, got.Config) || !reflect.DeepEqual(updated.Scale, got.Scale) {
		t.Fatalf("after UpdateEnv: %+v", updated)
	}
	// Domains change only through SetDomains, so a deployment that ends
	// with UpdateEnv never undoes a domain change made meanwhile.
	if !reflect.DeepEqual(updated.Domains, wantDomains) || !reflect.DeepEqual(got.Domains, wantDomains) {
		t.Errorf("UpdateEnv changed the domains to %q (returned %q), want them kept as %q", updated.Domains, got.Domains, wantDomains)
	}
	if err := db.SetDomains(ctx, got.ID, []string{"api.example.com"}); err != nil {
		t.Fatal(err)
	}
	// The old domains are free again.
	mustCreateEnv(t, db, app, "staging", "notes.example.com")
}

func TestEnvs_EmptyMapsReadBackEmpty(t *testing.T) {
	db := MustOpenDB(t)
	env := mustCreateEnv(t, db, mustCreateApp(t, db, "notes"), "production")
	got, err := db.FindEnv(context.Background(), "notes", "production")
	if err != nil {
		t.Fatal(err)
	}
	if got.Config == nil || len(got.Config) != 0 || got.Scale == nil || len(got.Scale) != 0 || got.Domains == nil {
		t.Fatalf("Config %v, Scale %v, Domains %v of %s: want empty, not nil", got.Config, got.Scale, got.Domains, env.Ref())
	}
}

func TestEnvs_ConfigAnyBytesRoundTrip(t *testing.T) {
	ctx := context.Background()
	db := MustOpenDB(t)
	env := mustCreateEnv(t, db, mustCreateApp(t, db, "notes"), "production")
	config := map[string]string{
		"LATIN1":  "caf\xe9",
		"BINARY":  "\xff\xfe\x01\x02\x80",
		"NEWLINE": "line 1\nline 2\r\n",
		"QUOTES":  `"'\` + "`",
		"UNICODE": "日本語 ✓",
	}
	env.Config = config
	if err := db.UpdateEnv(ctx, env); err != nil {
		t.Fatal(err)
	}
	got, err := db.FindEnv(ctx, "notes", "production")
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got.Config, config) {
		t.Fatalf("Config = %q, want %q", got.Config, config)
	}
}

func TestCreateEnv_NameTakenInApp(t *testing.T) {
	db := MustOpenDB(t)
	notes := mustCreateApp(t, db, "notes")
	mustCreateEnv(t, db, notes, "production")
	err := db.CreateEnv(context.Background(), &jack.Environment{AppID: notes.ID, Name: "production", Tier: jack.TierWeb})
	assertError(t, err, jack.ECONFLICT, "environment notes/production already exists")

	// Another app may use the name.
	mustCreateEnv(t, db, mustCreateApp(t, db, "blog"), "production")
}

func TestCreateEnv_DomainTakenAcrossApps(t *testing.T) {
	db := MustOpenDB(t)
	mustCreateEnv(t, db, mustCreateApp(t, db, "notes"), "staging", "x.com")
	blog := mustCreateApp(t, db, "blog")
	err := db.CreateEnv(context.Background(), &jack.Environment{
		AppID: blog.ID, Name: "production", Tier: jack.TierWeb, Domains: []string{"www.x.com", "X.com"},
	})
	assertError(t, err, jack.ECONFLICT, "domain x.com is already used by notes/staging")
	if _, err := db.FindEnv(context.Background(), "blog", "production"); jack.ErrorCode(err) != jack.ENOTFOUND {
		t.Fatalf("environment stored despite the conflict: %v", err)
	}
	// www.x.com was not kept either.
	mustCreateEnv(t, db, blog, "other", "www.x.com")
}

func TestSetDomains_DomainTaken(t *testing.T) {
	ctx := context.Background()
	db := MustOpenDB(t)
	app := mustCreateApp(t, db, "notes")
	mustCreateEnv(t, db, app, "staging", "staging.x.com")
	prod := mustCreateEnv(t, db, app, "production", "x.com")

	err := db.SetDomains(ctx, prod.ID, []string{"x.com", "staging.x.com"})
	assertError(t, err, jack.ECONFLICT, "domain staging.x.com is already used by notes/staging")
	got, err := db.FindEnv(ctx, "notes", "production")
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got.Domains, []string{"x.com"}) {
		t.Fatalf("Domains after a refused update = %q, want [x.com]", got.Domains)
	}
}

func TestUpdateEnv_Missing(t *testing.T) {
	db := MustOpenDB(t)
	err := db.UpdateEnv(context.Background(), &jack.Environment{ID: 5, Name: "production", Tier: jack.TierWeb})
	assertError(t, err, jack.ENOTFOUND, "environment 5 does not exist; see `jack envs`")
}

func TestFindEnv_NamesWhatIsMissing(t *testing.T) {
	db := MustOpenDB(t)
	mustCreateApp(t, db, "notes")
	_, err := db.FindEnv(context.Background(), "notes", "prod")
	assertError(t, err, jack.ENOTFOUND, "environment notes/prod does not exist; see `jack envs notes`")
	_, err = db.FindEnv(context.Background(), "blog", "prod")
	assertError(t, err, jack.ENOTFOUND, "app blog does not exist; create it with `jack apps create blog`")
}

func TestListEnvs(t *testing.T) {
	ctx := context.Background()
	db := MustOpenDB(t)
	notes := mustCreateApp(t, db, "notes")
	blog := mustCreateApp(t, db, "blog")
	mustCreateEnv(t, db, notes, "staging", "staging.notes.com")
	mustCreateEnv(t, db, notes, "production", "notes.com", "www.notes.com")
	mustCreateEnv(t, db, blog, "production")

	all, err := db.ListEnvs(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	var refs []string
	for _, e := range all {
		refs = append(refs, e.Ref())
	}
	if want := []string{"blog/production", "notes/production", "notes/staging"}; !reflect.DeepEqual(refs, want) {
		t.Fatalf("ListEnvs(\"\") = %q, want %q", refs, want)
	}
	if !reflect.DeepEqual(all[1].Domains, []string{"notes.com", "www.notes.com"}) || len(all[0].Domains) != 0 {
		t.Fatalf("domains: %q, %q", all[0].Domains, all[1].Domains)
	}

	mine, err := db.ListEnvs(ctx, "notes")
	if err != nil {
		t.Fatal(err)
	}
	if len(mine) != 2 || mine[0].Name != "production" || mine[1].Name != "staging" {
		t.Fatalf("ListEnvs(notes) = %v", mine)
	}

	_, err = db.ListEnvs(ctx, "wiki")
	assertError(t, err, jack.ENOTFOUND, "app wiki does not exist; create it with `jack apps create wiki`")
}

func TestDeleteEnv_Cascades(t *testing.T) {
	ctx := context.Background()
	db := MustOpenDB(t)
	app := mustCreateApp(t, db, "notes")
	v := mustCreateVersion(t, db, app, "")
	env := mustCreateEnv(t, db, app, "production", "notes.com")
	other := mustCreateEnv(t, db, app, "staging")
	r := mustCreateRelease(t, db, env, v)
	d := &jack.Deployment{EnvID: env.ID, ReleaseID: r.ID, Kind: "deploy"}
	if err := db.CreateDeployment(ctx, d); err != nil {
		t.Fatal(err)
	}
	if err := db.AddEvent(ctx, &jack.Event{EnvID: env.ID, Kind: "deploy", Message: "started"}); err != nil {
		t.Fatal(err)
	}
	otherRelease := mustCreateRelease(t, db, other, v)

	if err := db.DeleteEnv(ctx, env.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := db.FindEnv(ctx, "notes", "production"); jack.ErrorCode(err) != jack.ENOTFOUND {
		t.Fatalf("FindEnv after delete: %v", err)
	}
	if rs, err := db.ListReleases(ctx, env.ID); err != nil || len(rs) != 0 {
		t.Fatalf("releases after delete: %v, %v", rs, err)
	}
	if _, err := db.FindDeployment(ctx, d.ID); jack.ErrorCode(err) != jack.ENOTFOUND {
		t.Fatalf("deployment after delete: %v", err)
	}
	if es, err := db.ListEvents(ctx, env.ID, 0, 0); err != nil || len(es) != 0 {
		t.Fatalf("events after delete: %v, %v", es, err)
	}
	// The domain is free, the other environment and the version untouched.
	mustCreateEnv(t, db, app, "production", "notes.com")
	if _, err := db.FindRelease(ctx, other.ID, otherRelease.Number); err != nil {
		t.Fatal(err)
	}
	if _, err := db.FindVersionByID(ctx, v.ID); err != nil {
		t.Fatal(err)
	}

	assertError(t, db.DeleteEnv(ctx, env.ID), jack.ENOTFOUND, "environment "+itoa(env.ID)+" does not exist; see `jack envs`")
}
