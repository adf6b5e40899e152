package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/jack-paas/jack"
)

// CreateRun stores a run and sets its ID and CreatedAt. ECONFLICT when a
// run of the same environment, job and tick exists: the tick is taken.
func (db *DB) CreateRun(ctx context.Context, r *jack.Run) error {
	return db.write(ctx, func(tx *tx) error {
		if _, err := findEnvByID(ctx, tx, r.EnvID); err != nil {
			return err
		}
		var tick any
		if r.Tick != nil {
			tick = formatTime(*r.Tick)
			var n int
			if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM runs WHERE env_id = ? AND job = ? AND tick = ?`,
				r.EnvID, r.Job, tick).Scan(&n); err != nil {
				return fmt.Errorf("check tick: %w", err)
			} else if n > 0 {
				return jack.Errorf(jack.ECONFLICT, "cron job %s already ran at %s", r.Job, r.Tick.UTC().Format("2006-01-02 15:04:05"))
			}
		}
		command, err := encodeJSON(nonNilStrings(r.Command))
		if err != nil {
			return err
		}
		output, err := encodeJSON(nonNilStrings(r.Output))
		if err != nil {
			return err
		}
		if r.CreatedAt.IsZero() {
			r.CreatedAt = tx.now
		}
		res, err := tx.ExecContext(ctx, `INSERT INTO runs (env_id, kind, job, command, process, release, tty, state, exit_code, reason, output, tick, created_at, finished_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			r.EnvID, r.Kind, r.Job, command, r.Process, r.Release, r.TTY, r.State, r.ExitCode, r.Reason, output, tick,
			formatTime(r.CreatedAt), optionalTime(r.FinishedAt))
		if err != nil {
			return fmt.Errorf("insert run: %w", err)
		}
		r.ID, err = res.LastInsertId()
		return err
	})
}

// UpdateRun saves a run's State, ExitCode, Reason, Output and FinishedAt.
// ENOTFOUND if it is gone (its environment was deleted).
func (db *DB) UpdateRun(ctx context.Context, r *jack.Run) error {
	return db.write(ctx, func(tx *tx) error {
		output, err := encodeJSON(nonNilStrings(r.Output))
		if err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, `UPDATE runs SET state = ?, exit_code = ?, reason = ?, output = ?, finished_at = ? WHERE id = ?`,
			r.State, r.ExitCode, r.Reason, output, optionalTime(r.FinishedAt), r.ID)
		if err != nil {
			return fmt.Errorf("update run %d: %w", r.ID, err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return jack.Errorf(jack.ENOTFOUND, "run %d does not exist", r.ID)
		}
		return nil
	})
}

// ListRuns returns an environment's runs, newest first, at most limit (no
// limit when <= 0); kind and job, when given, keep only those.
func (db *DB) ListRuns(ctx context.Context, envID int64, kind, job string, limit int) ([]*jack.Run, error) {
	query := `SELECT id, env_id, kind, job, command, process, release, tty, state, exit_code, reason, output, tick, created_at, finished_at
		FROM runs WHERE env_id = ?`
	args := []any{envID}
	if kind != "" {
		query += " AND kind = ?"
		args = append(args, kind)
	}
	if job != "" {
		query += " AND job = ?"
		args = append(args, job)
	}
	query += " ORDER BY id DESC"
	if limit > 0 {
		query += " LIMIT ?"
		args = append(args, limit)
	}
	runs := []*jack.Run{}
	err := db.read(ctx, func(tx *tx) error {
		rows, err := tx.QueryContext(ctx, query, args...)
		if err != nil {
			return fmt.Errorf("list runs: %w", err)
		}
		defer rows.Close()
		for rows.Next() {
			r, err := scanRun(rows)
			if err != nil {
				return err
			}
			runs = append(runs, r)
		}
		return rows.Err()
	})
	return runs, err
}

// EndRunningRuns fails every run still marked running, with reason.
func (db *DB) EndRunningRuns(ctx context.Context, reason string) (int, error) {
	var n int64
	err := db.write(ctx, func(tx *tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE runs SET state = ?, reason = ?, finished_at = ? WHERE state = ?`,
			jack.RunFailed, reason, formatTime(tx.now), jack.RunRunning)
		if err != nil {
			return fmt.Errorf("end running runs: %w", err)
		}
		n, err = res.RowsAffected()
		return err
	})
	return int(n), err
}

func scanRun(s scanner) (*jack.Run, error) {
	var r jack.Run
	var command, output, created string
	var tick, finished sql.NullString
	if err := s.Scan(&r.ID, &r.EnvID, &r.Kind, &r.Job, &command, &r.Process, &r.Release, &r.TTY, &r.State,
		&r.ExitCode, &r.Reason, &output, &tick, &created, &finished); err != nil {
		return nil, fmt.Errorf("scan run: %w", err)
	}
	if err := decodeJSON(command, &r.Command); err != nil {
		return nil, err
	}
	if err := decodeJSON(output, &r.Output); err != nil {
		return nil, err
	}
	var err error
	if r.CreatedAt, err = parseTime(created); err != nil {
		return nil, err
	}
	for _, t := range []struct {
		text sql.NullString
		dst  **time.Time
	}{{tick, &r.Tick}, {finished, &r.FinishedAt}} {
		if t.text.Valid {
			at, err := parseTime(t.text.String)
			if err != nil {
				return nil, err
			}
			*t.dst = &at
		}
	}
	return &r, nil
}

func optionalTime(t *time.Time) any {
	if t == nil {
		return nil
	}
	return formatTime(*t)
}

func nonNilStrings(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// LastCronTick returns the newest tick a job of the environment has a run
// for; the zero time when none.
func (db *DB) LastCronTick(ctx context.Context, envID int64, job string) (time.Time, error) {
	var tick sql.NullString
	err := db.read(ctx, func(tx *tx) error {
		return tx.QueryRowContext(ctx, `SELECT MAX(tick) FROM runs WHERE env_id = ? AND job = ? AND tick IS NOT NULL`, envID, job).Scan(&tick)
	})
	if err != nil || !tick.Valid {
		return time.Time{}, err
	}
	return parseTime(tick.String)
}
