package sqlite

import (
	"context"
	"fmt"
	"time"

	"github.com/jack-paas/jack"
)

// SaveRollups stores minute rollups, replacing any of the same
// environment, process and minute. Rollups of environments deleted
// meanwhile are skipped.
func (db *DB) SaveRollups(ctx context.Context, rollups []*jack.Rollup) error {
	if len(rollups) == 0 {
		return nil
	}
	return db.write(ctx, func(tx *tx) error {
		stmt, err := tx.PrepareContext(ctx, `INSERT OR REPLACE INTO metric_rollups
			(env_id, process, minute, instances, cpu_percent, cpu_max, memory_avg, memory_max,
			 net_rx, net_tx, block_read, block_write, restarts, requests, errors, p95)
			SELECT ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?
			WHERE EXISTS (SELECT 1 FROM environments WHERE id = ?)`)
		if err != nil {
			return fmt.Errorf("prepare rollup insert: %w", err)
		}
		defer stmt.Close()
		for _, r := range rollups {
			if _, err := stmt.ExecContext(ctx, r.EnvID, r.Process, r.Minute.Unix(), r.Instances,
				r.CPUPercent, r.CPUMax, int64(r.MemoryAvg), int64(r.MemoryMax),
				int64(r.NetRx), int64(r.NetTx), int64(r.BlockRead), int64(r.BlockWrite),
				r.Restarts, int64(r.Requests), int64(r.Errors), r.P95, r.EnvID); err != nil {
				return fmt.Errorf("insert rollup: %w", err)
			}
		}
		return nil
	})
}

// ListRollups returns an environment's rollups from since on, oldest
// first; process "" gives the environment's own, "*" every process's.
func (db *DB) ListRollups(ctx context.Context, envID int64, process string, since time.Time) ([]*jack.Rollup, error) {
	query := `SELECT env_id, process, minute, instances, cpu_percent, cpu_max, memory_avg, memory_max,
		net_rx, net_tx, block_read, block_write, restarts, requests, errors, p95
		FROM metric_rollups WHERE env_id = ? AND minute >= ?`
	args := []any{envID, since.Unix()}
	if process != "*" {
		query += ` AND process = ?`
		args = append(args, process)
	}
	query += ` ORDER BY minute, process`
	out := []*jack.Rollup{}
	err := db.read(ctx, func(tx *tx) error {
		rows, err := tx.QueryContext(ctx, query, args...)
		if err != nil {
			return fmt.Errorf("list rollups: %w", err)
		}
		defer rows.Close()
		for rows.Next() {
			var r jack.Rollup
			var minute, memAvg, memMax, rx, txb, br, bw, req, errs int64
			if err := rows.Scan(&r.EnvID, &r.Process, &minute, &r.Instances, &r.CPUPercent, &r.CPUMax,
				&memAvg, &memMax, &rx, &txb, &br, &bw, &r.Restarts, &req, &errs, &r.P95); err != nil {
				return fmt.Errorf("scan rollup: %w", err)
			}
			r.Minute = time.Unix(minute, 0).UTC()
			r.MemoryAvg, r.MemoryMax, r.NetRx, r.NetTx = uint64(memAvg), uint64(memMax), uint64(rx), uint64(txb)
			r.BlockRead, r.BlockWrite, r.Requests, r.Errors = uint64(br), uint64(bw), uint64(req), uint64(errs)
			out = append(out, &r)
		}
		return rows.Err()
	})
	return out, err
}

// PruneRollups removes rollups of minutes before t.
func (db *DB) PruneRollups(ctx context.Context, before time.Time) error {
	return db.write(ctx, func(tx *tx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM metric_rollups WHERE minute < ?`, before.Unix()); err != nil {
			return fmt.Errorf("prune rollups: %w", err)
		}
		return nil
	})
}

// CountDeployments returns how many deployments of each environment are in
// each state.
func (db *DB) CountDeployments(ctx context.Context) ([]jack.DeploymentCount, error) {
	out := []jack.DeploymentCount{}
	err := db.read(ctx, func(tx *tx) error {
		rows, err := tx.QueryContext(ctx, `SELECT env_id, state, COUNT(*) FROM deployments GROUP BY env_id, state ORDER BY env_id, state`)
		if err != nil {
			return fmt.Errorf("count deployments: %w", err)
		}
		defer rows.Close()
		for rows.Next() {
			var c jack.DeploymentCount
			if err := rows.Scan(&c.EnvID, &c.State, &c.Count); err != nil {
				return fmt.Errorf("scan deployment count: %w", err)
			}
			out = append(out, c)
		}
		return rows.Err()
	})
	return out, err
}
