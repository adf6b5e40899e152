package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/jack-paas/jack"
)

var _ jack.LogStore = (*DB)(nil)

// LogSettings returns an environment's log settings; zero fields when
// never set.
func (db *DB) LogSettings(ctx context.Context, envID int64) (jack.LogSettings, error) {
	var s jack.LogSettings
	err := db.read(ctx, func(tx *tx) error {
		var retention int64
		err := tx.QueryRowContext(ctx, `SELECT retention, max_bytes FROM log_settings WHERE env_id = ?`, envID).Scan(&retention, &s.MaxBytes)
		if errors.Is(err, sql.ErrNoRows) {
			return nil
		} else if err != nil {
			return fmt.Errorf("read log settings: %w", err)
		}
		s.Retention = time.Duration(retention)
		return nil
	})
	return s, err
}

// SetLogSettings stores an environment's log settings; zero fields keep
// their value. ENOTFOUND if the environment is missing.
func (db *DB) SetLogSettings(ctx context.Context, envID int64, s jack.LogSettings) error {
	return db.write(ctx, func(tx *tx) error {
		if _, err := findEnvByID(ctx, tx, envID); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO log_settings (env_id, retention, max_bytes) VALUES (?, ?, ?)
			ON CONFLICT (env_id) DO UPDATE SET
				retention = CASE WHEN excluded.retention = 0 THEN retention ELSE excluded.retention END,
				max_bytes = CASE WHEN excluded.max_bytes = 0 THEN max_bytes ELSE excluded.max_bytes END`,
			envID, int64(s.Retention), s.MaxBytes)
		if err != nil {
			return fmt.Errorf("store log settings: %w", err)
		}
		return nil
	})
}

// AddDrain stores a drain and sets its ID and CreatedAt. ENOTFOUND if the
// environment is missing, ECONFLICT if it has a drain with that URL.
func (db *DB) AddDrain(ctx context.Context, d *jack.LogDrain) error {
	return db.write(ctx, func(tx *tx) error {
		if _, err := findEnvByID(ctx, tx, d.EnvID); err != nil {
			return err
		}
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM log_drains WHERE env_id = ? AND url = ?`, d.EnvID, d.URL).Scan(&n); err != nil {
			return fmt.Errorf("check drain: %w", err)
		} else if n > 0 {
			return jack.Errorf(jack.ECONFLICT, "the environment has that drain already; see `jack drains list`")
		}
		res, err := tx.ExecContext(ctx, `INSERT INTO log_drains (env_id, url, created_at) VALUES (?, ?, ?)`,
			d.EnvID, d.URL, formatTime(tx.now))
		if err != nil {
			return fmt.Errorf("insert drain: %w", err)
		}
		if d.ID, err = res.LastInsertId(); err != nil {
			return err
		}
		d.CreatedAt = tx.now
		return nil
	})
}

// ListDrains returns the drains of an environment, or of every environment
// when envID is 0, oldest first.
func (db *DB) ListDrains(ctx context.Context, envID int64) ([]*jack.LogDrain, error) {
	query, args := `SELECT id, env_id, url, created_at FROM log_drains ORDER BY id`, []any{}
	if envID != 0 {
		query, args = `SELECT id, env_id, url, created_at FROM log_drains WHERE env_id = ? ORDER BY id`, []any{envID}
	}
	drains := []*jack.LogDrain{}
	err := db.read(ctx, func(tx *tx) error {
		rows, err := tx.QueryContext(ctx, query, args...)
		if err != nil {
			return fmt.Errorf("list drains: %w", err)
		}
		defer rows.Close()
		for rows.Next() {
			d, err := scanDrain(rows)
			if err != nil {
				return err
			}
			drains = append(drains, d)
		}
		return rows.Err()
	})
	return drains, err
}

// DeleteDrain removes an environment's drain with the URL and returns it.
// ENOTFOUND if there is none.
func (db *DB) DeleteDrain(ctx context.Context, envID int64, url string) (*jack.LogDrain, error) {
	var d *jack.LogDrain
	err := db.write(ctx, func(tx *tx) error {
		var err error
		d, err = scanDrain(tx.QueryRowContext(ctx, `SELECT id, env_id, url, created_at FROM log_drains WHERE env_id = ? AND url = ?`, envID, url))
		if errors.Is(err, sql.ErrNoRows) {
			return jack.Errorf(jack.ENOTFOUND, "the environment has no drain %s; see `jack drains list`", url)
		} else if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM log_drains WHERE id = ?`, d.ID); err != nil {
			return fmt.Errorf("delete drain: %w", err)
		}
		return nil
	})
	return d, err
}

func scanDrain(s scanner) (*jack.LogDrain, error) {
	var d jack.LogDrain
	var created string
	if err := s.Scan(&d.ID, &d.EnvID, &d.URL, &created); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return nil, err
		}
		return nil, fmt.Errorf("scan drain: %w", err)
	}
	var err error
	d.CreatedAt, err = parseTime(created)
	return &d, err
}
