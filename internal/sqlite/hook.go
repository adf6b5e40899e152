package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/jack-paas/jack"
)

// CreateHook stores a webhook and sets its ID and CreatedAt. ECONFLICT if
// the environment has one with the URL; ENOTFOUND if the environment is
// missing.
func (db *DB) CreateHook(ctx context.Context, h *jack.Hook) error {
	if err := jack.ValidateHookURL(h.URL); err != nil {
		return err
	}
	return db.write(ctx, func(tx *tx) error {
		if _, err := findEnvByID(ctx, tx, h.EnvID); err != nil {
			return err
		}
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM hooks WHERE env_id = ? AND url = ?`, h.EnvID, h.URL).Scan(&n); err != nil {
			return fmt.Errorf("check hooks: %w", err)
		} else if n > 0 {
			return jack.Errorf(jack.ECONFLICT, "the environment already has a webhook to %s", h.URL)
		}
		if h.CreatedAt.IsZero() {
			h.CreatedAt = tx.now
		}
		res, err := tx.ExecContext(ctx, `INSERT INTO hooks (env_id, url, secret, created_at) VALUES (?, ?, ?, ?)`,
			h.EnvID, h.URL, h.Secret, formatTime(h.CreatedAt))
		if err != nil {
			return fmt.Errorf("insert hook: %w", err)
		}
		h.ID, err = res.LastInsertId()
		return err
	})
}

// ListHooks returns an environment's webhooks, oldest first, with their
// secrets.
func (db *DB) ListHooks(ctx context.Context, envID int64) ([]*jack.Hook, error) {
	out := []*jack.Hook{}
	err := db.read(ctx, func(tx *tx) error {
		rows, err := tx.QueryContext(ctx, `SELECT id, env_id, url, secret, created_at FROM hooks WHERE env_id = ? ORDER BY id`, envID)
		if err != nil {
			return fmt.Errorf("list hooks: %w", err)
		}
		defer rows.Close()
		for rows.Next() {
			var h jack.Hook
			var at string
			if err := rows.Scan(&h.ID, &h.EnvID, &h.URL, &h.Secret, &at); err != nil {
				return fmt.Errorf("scan hook: %w", err)
			}
			if h.CreatedAt, err = parseTime(at); err != nil {
				return err
			}
			out = append(out, &h)
		}
		return rows.Err()
	})
	return out, err
}

// DeleteHook removes a webhook and its deliveries. ENOTFOUND if the
// environment has none with the ID.
func (db *DB) DeleteHook(ctx context.Context, envID, id int64) error {
	return db.write(ctx, func(tx *tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM hooks WHERE env_id = ? AND id = ?`, envID, id)
		if err != nil {
			return fmt.Errorf("delete hook: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return jack.Errorf(jack.ENOTFOUND, "webhook %d does not exist; see `jack hooks list`", id)
		}
		return nil
	})
}

// CreateDelivery stores a delivery and sets its ID and CreatedAt.
func (db *DB) CreateDelivery(ctx context.Context, d *jack.Delivery) error {
	return db.write(ctx, func(tx *tx) error {
		if d.CreatedAt.IsZero() {
			d.CreatedAt = tx.now
		}
		if d.NextAttempt.IsZero() {
			d.NextAttempt = d.CreatedAt
		}
		res, err := tx.ExecContext(ctx, `INSERT INTO hook_deliveries
			(hook_id, env_id, event, payload, state, attempts, status_code, error, created_at, next_attempt, done_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			d.HookID, d.EnvID, d.Event, d.Payload, d.State, d.Attempts, d.StatusCode, d.Error,
			formatTime(d.CreatedAt), formatTime(d.NextAttempt), nullTime(d.DoneAt))
		if err != nil {
			return fmt.Errorf("insert delivery: %w", err)
		}
		d.ID, err = res.LastInsertId()
		return err
	})
}

// UpdateDelivery saves a delivery's State, Attempts, StatusCode, Error,
// NextAttempt and DoneAt. A delivery whose hook was removed meanwhile is
// gone, which is not an error.
func (db *DB) UpdateDelivery(ctx context.Context, d *jack.Delivery) error {
	return db.write(ctx, func(tx *tx) error {
		_, err := tx.ExecContext(ctx, `UPDATE hook_deliveries SET state = ?, attempts = ?, status_code = ?, error = ?,
			next_attempt = ?, done_at = ? WHERE id = ?`,
			d.State, d.Attempts, d.StatusCode, d.Error, formatTime(d.NextAttempt), nullTime(d.DoneAt), d.ID)
		if err != nil {
			return fmt.Errorf("update delivery %d: %w", d.ID, err)
		}
		return nil
	})
}

// deliveryColumns are what scanDelivery reads, from hook_deliveries d
// joined with hooks h.
const deliveryColumns = `d.id, d.hook_id, d.env_id, h.url, d.event, d.payload, d.state, d.attempts,
	d.status_code, d.error, d.created_at, d.next_attempt, d.done_at`

// DueDeliveries returns pending deliveries due at t, oldest first.
func (db *DB) DueDeliveries(ctx context.Context, t time.Time, limit int) ([]*jack.Delivery, error) {
	return db.listDeliveries(ctx, `SELECT `+deliveryColumns+` FROM hook_deliveries d JOIN hooks h ON h.id = d.hook_id
		WHERE d.state = 'pending' AND d.next_attempt <= ? ORDER BY d.next_attempt, d.id LIMIT ?`, formatTime(t), limit)
}

// NextDelivery returns when the earliest pending delivery is due; zero
// when none is pending.
func (db *DB) NextDelivery(ctx context.Context) (time.Time, error) {
	var next time.Time
	err := db.read(ctx, func(tx *tx) error {
		var at sql.NullString
		if err := tx.QueryRowContext(ctx, `SELECT MIN(next_attempt) FROM hook_deliveries WHERE state = 'pending'`).Scan(&at); err != nil {
			return fmt.Errorf("next delivery: %w", err)
		}
		if !at.Valid {
			return nil
		}
		var err error
		next, err = parseTime(at.String)
		return err
	})
	return next, err
}

// ListDeliveries returns an environment's deliveries, newest first.
func (db *DB) ListDeliveries(ctx context.Context, envID int64, limit int) ([]*jack.Delivery, error) {
	return db.listDeliveries(ctx, `SELECT `+deliveryColumns+` FROM hook_deliveries d JOIN hooks h ON h.id = d.hook_id
		WHERE d.env_id = ? ORDER BY d.id DESC LIMIT ?`, envID, limit)
}

func (db *DB) listDeliveries(ctx context.Context, query string, args ...any) ([]*jack.Delivery, error) {
	out := []*jack.Delivery{}
	err := db.read(ctx, func(tx *tx) error {
		rows, err := tx.QueryContext(ctx, query, args...)
		if err != nil {
			return fmt.Errorf("list deliveries: %w", err)
		}
		defer rows.Close()
		for rows.Next() {
			d, err := scanDelivery(rows)
			if err != nil {
				return err
			}
			out = append(out, d)
		}
		return rows.Err()
	})
	return out, err
}

func scanDelivery(s scanner) (*jack.Delivery, error) {
	var d jack.Delivery
	var created, next string
	var done sql.NullString
	if err := s.Scan(&d.ID, &d.HookID, &d.EnvID, &d.URL, &d.Event, &d.Payload, &d.State, &d.Attempts,
		&d.StatusCode, &d.Error, &created, &next, &done); err != nil {
		return nil, fmt.Errorf("scan delivery: %w", err)
	}
	var err error
	if d.CreatedAt, err = parseTime(created); err != nil {
		return nil, err
	}
	if d.NextAttempt, err = parseTime(next); err != nil {
		return nil, err
	}
	if done.Valid {
		t, err := parseTime(done.String)
		if err != nil {
			return nil, err
		}
		d.DoneAt = &t
	}
	return &d, nil
}
