package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"

	"github.com/jack-paas/jack"
)

const versionColumns = `id, app_id, number, label, image, image_id, digest, manifest, source, manifest_text, created_at`

// CreateVersion stores a version of v.AppID, numbering it after the app's
// newest and labelling it "vN" when no label is given; it sets ID, Number,
// Label and CreatedAt. ECONFLICT if the app already has the label.
func (db *DB) CreateVersion(ctx context.Context, v *jack.Version) error {
	manifest, err := encodeJSON(v.Manifest)
	if err != nil {
		return err
	}
	return db.write(ctx, func(tx *tx) error {
		app, err := findAppByID(ctx, tx, v.AppID)
		if err != nil {
			return err
		}
		var number int
		if err := tx.QueryRowContext(ctx, `SELECT COALESCE(MAX(number), 0) + 1 FROM versions WHERE app_id = ?`,
			v.AppID).Scan(&number); err != nil {
			return fmt.Errorf("number version of %s: %w", app.Name, err)
		}
		label := v.Label
		if label == "" {
			label = "v" + strconv.Itoa(number)
		}
		if _, err := findVersion(ctx, tx, app, label); err == nil {
			return jack.Errorf(jack.ECONFLICT, "version label %s already exists for %s; choose another --label", label, app.Name)
		} else if jack.ErrorCode(err) != jack.ENOTFOUND {
			return err
		}
		created := v.CreatedAt
		if created.IsZero() {
			created = tx.now
		}
		res, err := tx.ExecContext(ctx, `INSERT INTO versions
			(app_id, number, label, image, image_id, digest, manifest, source, manifest_text, created_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			v.AppID, number, label, v.Image, v.ImageID, v.Digest, manifest, v.Source, v.ManifestText, formatTime(created))
		if err != nil {
			return fmt.Errorf("insert version %s of %s: %w", label, app.Name, err)
		}
		id, err := res.LastInsertId()
		if err != nil {
			return err
		}
		v.ID, v.Number, v.Label, v.CreatedAt = id, number, label, created
		return nil
	})
}

// FindVersion returns a version by label. ENOTFOUND if there is none.
func (db *DB) FindVersion(ctx context.Context, appID int64, label string) (*jack.Version, error) {
	var v *jack.Version
	err := db.read(ctx, func(tx *tx) error {
		app, err := findAppByID(ctx, tx, appID)
		if err != nil {
			return err
		}
		v, err = findVersion(ctx, tx, app, label)
		return err
	})
	return v, err
}

// FindVersionByID returns a version by its ID. ENOTFOUND if there is none.
func (db *DB) FindVersionByID(ctx context.Context, id int64) (*jack.Version, error) {
	var v *jack.Version
	err := db.read(ctx, func(tx *tx) (err error) {
		v, err = findVersionByID(ctx, tx, id)
		return err
	})
	return v, err
}

// ListVersions returns an app's versions, newest first.
func (db *DB) ListVersions(ctx context.Context, appID int64) ([]*jack.Version, error) {
	versions := []*jack.Version{}
	err := db.read(ctx, func(tx *tx) error {
		rows, err := tx.QueryContext(ctx, `SELECT `+versionColumns+` FROM versions
			WHERE app_id = ? ORDER BY number DESC`, appID)
		if err != nil {
			return fmt.Errorf("list versions: %w", err)
		}
		defer rows.Close()
		for rows.Next() {
			v, err := scanVersion(rows)
			if err != nil {
				return err
			}
			versions = append(versions, v)
		}
		return rows.Err()
	})
	return versions, err
}

func findVersion(ctx context.Context, tx *tx, app *jack.App, label string) (*jack.Version, error) {
	v, err := scanVersion(tx.QueryRowContext(ctx, `SELECT `+versionColumns+` FROM versions
		WHERE app_id = ? AND label = ?`, app.ID, label))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, jack.Errorf(jack.ENOTFOUND, "version %s of %s does not exist; see `jack versions %s`",
			label, app.Name, app.Name)
	}
	return v, err
}

func findVersionByID(ctx context.Context, tx *tx, id int64) (*jack.Version, error) {
	v, err := scanVersion(tx.QueryRowContext(ctx, `SELECT `+versionColumns+` FROM versions WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, jack.Errorf(jack.ENOTFOUND, "version %d does not exist", id)
	}
	return v, err
}

func scanVersion(s scanner) (*jack.Version, error) {
	var v jack.Version
	var manifest, created string
	if err := s.Scan(&v.ID, &v.AppID, &v.Number, &v.Label, &v.Image, &v.ImageID, &v.Digest,
		&manifest, &v.Source, &v.ManifestText, &created); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return nil, err
		}
		return nil, fmt.Errorf("scan version: %w", err)
	}
	if err := decodeJSON(manifest, &v.Manifest); err != nil {
		return nil, err
	}
	var err error
	v.CreatedAt, err = parseTime(created)
	return &v, err
}
