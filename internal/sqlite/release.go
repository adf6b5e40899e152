package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/jack-paas/jack"
)

// releaseColumns are the columns scanRelease reads, from releases r joined
// with versions v. The state is that of the newest deployment of the release.
const releaseColumns = `r.id, r.env_id, r.number, r.version_id, v.label, r.config, r.scale,
	r.strategy, r.description, r.created_at,
	COALESCE((SELECT d.state FROM deployments d WHERE d.release_id = r.id ORDER BY d.id DESC LIMIT 1), '')`

// CreateRelease stores a release of r.EnvID, numbering it after the
// environment's newest one in the same transaction; it sets ID, Number,
// Version (the label) and CreatedAt. ENOTFOUND if the environment or the
// version is missing; EINVALID if the version belongs to another app.
func (db *DB) CreateRelease(ctx context.Context, r *jack.Release) error {
	config, err := encodeConfig(r.Config)
	if err != nil {
		return err
	}
	scale, err := encodeScale(r.Scale)
	if err != nil {
		return err
	}
	return db.write(ctx, func(tx *tx) error {
		env, err := findEnvByID(ctx, tx, r.EnvID)
		if err != nil {
			return err
		}
		v, err := findVersionByID(ctx, tx, r.VersionID)
		if err != nil {
			return err
		} else if v.AppID != env.AppID {
			return jack.Errorf(jack.EINVALID, "version %d is not a version of %s", v.ID, env.App)
		}
		var number int
		if err := tx.QueryRowContext(ctx, `SELECT COALESCE(MAX(number), 0) + 1 FROM releases WHERE env_id = ?`,
			r.EnvID).Scan(&number); err != nil {
			return fmt.Errorf("number release of %s: %w", env.Ref(), err)
		}
		created := r.CreatedAt
		if created.IsZero() {
			created = tx.now
		}
		res, err := tx.ExecContext(ctx, `INSERT INTO releases
			(env_id, number, version_id, config, scale, strategy, description, created_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
			r.EnvID, number, r.VersionID, config, scale, r.Strategy, r.Description, formatTime(created))
		if err != nil {
			return fmt.Errorf("insert release %d of %s: %w", number, env.Ref(), err)
		}
		id, err := res.LastInsertId()
		if err != nil {
			return err
		}
		r.ID, r.Number, r.Version, r.CreatedAt = id, number, v.Label, created
		return nil
	})
}

// FindRelease returns an environment's release by number, with its
// version's label and the state of its newest deployment. ENOTFOUND if none.
func (db *DB) FindRelease(ctx context.Context, envID int64, number int) (*jack.Release, error) {
	var r *jack.Release
	err := db.read(ctx, func(tx *tx) error {
		env, err := findEnvByID(ctx, tx, envID)
		if err != nil {
			return err
		}
		r, err = scanRelease(tx.QueryRowContext(ctx, `SELECT `+releaseColumns+`
			FROM releases r JOIN versions v ON v.id = r.version_id
			WHERE r.env_id = ? AND r.number = ?`, envID, number))
		if errors.Is(err, sql.ErrNoRows) {
			return jack.Errorf(jack.ENOTFOUND, "release %d of %s does not exist; see `jack releases %s`",
				number, env.Ref(), env.Ref())
		}
		return err
	})
	return r, err
}

// ListReleases returns an environment's releases, newest first, each with
// the state of the latest deployment that rolled it out ("" if none did).
func (db *DB) ListReleases(ctx context.Context, envID int64) ([]*jack.Release, error) {
	releases := []*jack.Release{}
	err := db.read(ctx, func(tx *tx) error {
		rows, err := tx.QueryContext(ctx, `SELECT `+releaseColumns+`
			FROM releases r JOIN versions v ON v.id = r.version_id
			WHERE r.env_id = ? ORDER BY r.number DESC`, envID)
		if err != nil {
			return fmt.Errorf("list releases: %w", err)
		}
		defer rows.Close()
		for rows.Next() {
			r, err := scanRelease(rows)
			if err != nil {
				return err
			}
			releases = append(releases, r)
		}
		return rows.Err()
	})
	return releases, err
}

func scanRelease(s scanner) (*jack.Release, error) {
	var r jack.Release
	var config, scale, created string
	if err := s.Scan(&r.ID, &r.EnvID, &r.Number, &r.VersionID, &r.Version, &config, &scale,
		&r.Strategy, &r.Description, &created, &r.State); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return nil, err
		}
		return nil, fmt.Errorf("scan release: %w", err)
	}
	var err error
	if r.Config, err = decodeConfig(config); err != nil {
		return nil, err
	}
	if r.Scale, err = decodeScale(scale); err != nil {
		return nil, err
	}
	if r.CreatedAt, err = parseTime(created); err != nil {
		return nil, err
	}
	return &r, nil
}
