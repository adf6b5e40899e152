package sqlite

import (
	"context"
	"fmt"

	"github.com/jack-paas/jack"
)

// AddEvent stores an event and sets its ID, and its Time when zero.
// ENOTFOUND if the environment is missing.
func (db *DB) AddEvent(ctx context.Context, e *jack.Event) error {
	return db.write(ctx, func(tx *tx) error {
		if _, err := findEnvByID(ctx, tx, e.EnvID); err != nil {
			return err
		}
		at := e.Time
		if at.IsZero() {
			at = tx.now
		}
		res, err := tx.ExecContext(ctx, `INSERT INTO events (env_id, time, kind, message) VALUES (?, ?, ?, ?)`,
			e.EnvID, formatTime(at), e.Kind, e.Message)
		if err != nil {
			return fmt.Errorf("insert event: %w", err)
		}
		id, err := res.LastInsertId()
		if err != nil {
			return err
		}
		e.ID, e.Time = id, at
		return nil
	})
}

// ListEvents returns an environment's events oldest first. With afterID
// above 0 it returns the first limit events after that one; with afterID 0,
// the last limit events. A limit <= 0 means no limit.
func (db *DB) ListEvents(ctx context.Context, envID, afterID int64, limit int) ([]*jack.Event, error) {
	query := `SELECT id, env_id, time, kind, message FROM events WHERE env_id = ? AND id > ? ORDER BY id`
	if afterID <= 0 {
		// The newest limit, turned oldest first below.
		query += " DESC"
	}
	args := []any{envID, afterID}
	if limit > 0 {
		query += " LIMIT ?"
		args = append(args, limit)
	}
	events := []*jack.Event{}
	err := db.read(ctx, func(tx *tx) error {
		rows, err := tx.QueryContext(ctx, query, args...)
		if err != nil {
			return fmt.Errorf("list events: %w", err)
		}
		defer rows.Close()
		for rows.Next() {
			var e jack.Event
			var at string
			if err := rows.Scan(&e.ID, &e.EnvID, &at, &e.Kind, &e.Message); err != nil {
				return fmt.Errorf("scan event: %w", err)
			}
			if e.Time, err = parseTime(at); err != nil {
				return err
			}
			events = append(events, &e)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, err
	}
	if afterID <= 0 {
		for i, j := 0, len(events)-1; i < j; i, j = i+1, j-1 {
			events[i], events[j] = events[j], events[i]
		}
	}
	return events, nil
}
