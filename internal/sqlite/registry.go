package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/jack-paas/jack"
)

// PutRegistry stores a registry's credentials, the password sealed with
// db.Secrets; it replaces those of the same host. EINVALID for
// credentials that are not whole.
func (db *DB) PutRegistry(ctx context.Context, auth *jack.RegistryAuth) error {
	if err := auth.Validate(); err != nil {
		return err
	}
	if db.Secrets == nil {
		return jack.Errorf(jack.EINTERNAL, "the store has no secret key to seal a password with")
	}
	sealed := db.Secrets.Seal([]byte(auth.Password))
	return db.write(ctx, func(tx *tx) error {
		auth.CreatedAt = tx.now
		_, err := tx.ExecContext(ctx, `INSERT INTO registries (host, username, password, created_at) VALUES (?, ?, ?, ?)
			ON CONFLICT (host) DO UPDATE SET username = excluded.username, password = excluded.password, created_at = excluded.created_at`,
			auth.Host, auth.Username, sealed, formatTime(tx.now))
		if err != nil {
			return fmt.Errorf("store the credentials of %s: %w", auth.Host, err)
		}
		return nil
	})
}

// ListRegistries returns every registry's credentials, by host, without
// their passwords.
func (db *DB) ListRegistries(ctx context.Context) ([]*jack.RegistryAuth, error) {
	var out []*jack.RegistryAuth
	err := db.read(ctx, func(tx *tx) error {
		rows, err := tx.QueryContext(ctx, `SELECT host, username, created_at FROM registries ORDER BY host`)
		if err != nil {
			return fmt.Errorf("list registries: %w", err)
		}
		defer rows.Close()
		for rows.Next() {
			var a jack.RegistryAuth
			var created string
			if err := rows.Scan(&a.Host, &a.Username, &created); err != nil {
				return fmt.Errorf("list registries: %w", err)
			}
			if a.CreatedAt, err = parseTime(created); err != nil {
				return err
			}
			out = append(out, &a)
		}
		return rows.Err()
	})
	return out, err
}

// FindRegistry returns a host's credentials with the password opened.
// ENOTFOUND if none are stored.
func (db *DB) FindRegistry(ctx context.Context, host string) (*jack.RegistryAuth, error) {
	host = jack.NormalizeRegistryHost(host)
	var a jack.RegistryAuth
	var sealed []byte
	var created string
	err := db.read(ctx, func(tx *tx) error {
		err := tx.QueryRowContext(ctx, `SELECT host, username, password, created_at FROM registries WHERE host = ?`, host).
			Scan(&a.Host, &a.Username, &sealed, &created)
		if errors.Is(err, sql.ErrNoRows) {
			return jack.Errorf(jack.ENOTFOUND, "no credentials for registry %s; add them with `jack registries add %s`", host, host)
		} else if err != nil {
			return fmt.Errorf("find the credentials of %s: %w", host, err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if a.CreatedAt, err = parseTime(created); err != nil {
		return nil, err
	}
	if db.Secrets == nil {
		return nil, jack.Errorf(jack.EINTERNAL, "the store has no secret key to open a password with")
	}
	password, err := db.Secrets.Open(sealed)
	if err != nil {
		return nil, jack.Errorf(jack.EINTERNAL, "the password of registry %s: %v; add the credentials again", host, err)
	}
	a.Password = string(password)
	return &a, nil
}

// DeleteRegistry forgets a host's credentials. ENOTFOUND if none.
func (db *DB) DeleteRegistry(ctx context.Context, host string) error {
	host = jack.NormalizeRegistryHost(host)
	return db.write(ctx, func(tx *tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM registries WHERE host = ?`, host)
		if err != nil {
			return fmt.Errorf("delete the credentials of %s: %w", host, err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return jack.Errorf(jack.ENOTFOUND, "no credentials for registry %s", host)
		}
		return nil
	})
}
