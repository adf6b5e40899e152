package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/jack-paas/jack"
)

// CreateToken stores a token's SHA-256 hash under a name. ECONFLICT if a
// token with the hash exists.
func (db *DB) CreateToken(ctx context.Context, name, hash string) error {
	return db.write(ctx, func(tx *tx) error {
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM tokens WHERE hash = ?`, hash).Scan(&n); err != nil {
			return fmt.Errorf("check token: %w", err)
		} else if n > 0 {
			return jack.Errorf(jack.ECONFLICT, "a token with that hash already exists")
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO tokens (hash, name, created_at) VALUES (?, ?, ?)`,
			hash, name, formatTime(tx.now)); err != nil {
			return fmt.Errorf("insert token %s: %w", name, err)
		}
		return nil
	})
}

// FindToken returns the name of the token with the hash. ENOTFOUND if none.
func (db *DB) FindToken(ctx context.Context, hash string) (string, error) {
	var name string
	err := db.read(ctx, func(tx *tx) error {
		err := tx.QueryRowContext(ctx, `SELECT name FROM tokens WHERE hash = ?`, hash).Scan(&name)
		if errors.Is(err, sql.ErrNoRows) {
			return jack.Errorf(jack.ENOTFOUND, "no token has that hash")
		} else if err != nil {
			return fmt.Errorf("find token: %w", err)
		}
		return nil
	})
	return name, err
}

// CountTokens returns how many tokens exist.
func (db *DB) CountTokens(ctx context.Context) (int, error) {
	var n int
	err := db.read(ctx, func(tx *tx) error {
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM tokens`).Scan(&n); err != nil {
			return fmt.Errorf("count tokens: %w", err)
		}
		return nil
	})
	return n, err
}
