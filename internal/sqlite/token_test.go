package sqlite_test

import (
	"context"
	"testing"

	"github.com/jack-paas/jack"
)

func TestTokens(t *testing.T) {
	ctx := context.Background()
	db := MustOpenDB(t)
	if n, err := db.CountTokens(ctx); err != nil || n != 0 {
		t.Fatalf("CountTokens on a new database = %d, %v", n, err)
	}
	if err := db.CreateToken(ctx, "admin", "hash-a"); err != nil {
		t.Fatal(err)
	}
	if err := db.CreateToken(ctx, "ci", "hash-b"); err != nil {
		t.Fatal(err)
	}
	assertError(t, db.CreateToken(ctx, "again", "hash-a"), jack.ECONFLICT, "a token with that hash already exists")

	if name, err := db.FindToken(ctx, "hash-b"); err != nil || name != "ci" {
		t.Fatalf("FindToken(hash-b) = %q, %v; want ci", name, err)
	}
	_, err := db.FindToken(ctx, "hash-c")
	assertError(t, err, jack.ENOTFOUND, "no token has that hash")
	if n, err := db.CountTokens(ctx); err != nil || n != 2 {
		t.Fatalf("CountTokens = %d, %v; want 2", n, err)
	}
}
