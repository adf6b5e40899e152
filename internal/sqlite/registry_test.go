package sqlite_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/jack-paas/jack"
	"github.com/jack-paas/jack/internal/secret"
)

func TestRegistryPasswordsAreSealedAndOpenedWithTheKey(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "jack.db")
	db := mustOpenPath(t, path)
	key, _ := secret.LoadOrCreateKey(filepath.Join(t.TempDir(), "secret-key"))
	db.Secrets, _ = secret.New(key)

	if err := db.PutRegistry(ctx, &jack.RegistryAuth{Host: "https://Registry.Example.com/v2/", Username: "ci", Password: "pa55-word-in-the-db"}); err != nil {
		t.Fatal(err)
	}
	if err := db.PutRegistry(ctx, &jack.RegistryAuth{Host: "index.docker.io", Username: "me", Password: "hub"}); err != nil {
		t.Fatal(err)
	}
	list, err := db.ListRegistries(ctx)
	if err != nil || len(list) != 2 || list[0].Host != "docker.io" || list[1].Host != "registry.example.com" || list[1].Username != "ci" {
		t.Fatalf("ListRegistries = %+v, %v", list, err)
	}
	for _, a := range list {
		if a.Password != "" {
			t.Fatalf("the list shows a password: %+v", a)
		}
	}
	got, err := db.FindRegistry(ctx, "registry.example.com")
	if err != nil || got.Password != "pa55-word-in-the-db" || got.Username != "ci" {
		t.Fatalf("FindRegistry = %+v, %v", got, err)
	}
	// Replacing keeps one entry per host.
	if err := db.PutRegistry(ctx, &jack.RegistryAuth{Host: "registry.example.com", Username: "ci2", Password: "new"}); err != nil {
		t.Fatal(err)
	}
	if got, _ := db.FindRegistry(ctx, "registry.example.com"); got.Username != "ci2" || got.Password != "new" {
		t.Fatalf("after replacing: %+v", got)
	}
	db.Close()
	// The database file alone does not show the password.
	for _, f := range []string{path, path + "-wal"} {
		if raw, err := os.ReadFile(f); err == nil && bytes.Contains(raw, []byte("pa55-word-in-the-db")) {
			t.Fatalf("%s holds the password in clear", filepath.Base(f))
		}
	}
}

func TestBadRegistryCredentialsAreRefusedAndStoreNothing(t *testing.T) {
	ctx := context.Background()
	db := MustOpenDB(t)
	key, _ := secret.LoadOrCreateKey(filepath.Join(t.TempDir(), "secret-key"))
	db.Secrets, _ = secret.New(key)
	for _, a := range []jack.RegistryAuth{
		{Host: "", Username: "u", Password: "p"},
		{Host: "not a host", Username: "u", Password: "p"},
		{Host: "registry.example.com", Username: "", Password: "p"},
		{Host: "registry.example.com", Username: "u", Password: ""},
	} {
		if err := db.PutRegistry(ctx, &a); jack.ErrorCode(err) != jack.EINVALID {
			t.Errorf("PutRegistry(%+v) = %v; want EINVALID", a, err)
		}
	}
	if list, _ := db.ListRegistries(ctx); len(list) != 0 {
		t.Fatalf("stored %+v", list)
	}
	_, err := db.FindRegistry(ctx, "registry.example.com")
	assertError(t, err, jack.ENOTFOUND, "no credentials for registry registry.example.com; add them with `jack registries add registry.example.com`")
	assertError(t, db.DeleteRegistry(ctx, "registry.example.com"), jack.ENOTFOUND, "no credentials for registry registry.example.com")
}
