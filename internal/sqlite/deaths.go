package sqlite

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/jack-paas/jack"
)

// SaveSlotDeaths stores the record of one instance slot of an environment,
// replacing the one before. ENOTFOUND if the environment is missing.
func (db *DB) SaveSlotDeaths(ctx context.Context, envID int64, d jack.SlotDeaths) error {
	recent := make([]string, len(d.Recent))
	for i, t := range d.Recent {
		recent[i] = formatTime(t)
	}
	recentJSON, err := json.Marshal(recent)
	if err != nil {
		return err
	}
	return db.write(ctx, func(tx *tx) error {
		if _, err := findEnvByID(ctx, tx, envID); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO slot_deaths (env_id, name, total, recent, last_exit) VALUES (?, ?, ?, ?, ?)
			ON CONFLICT (env_id, name) DO UPDATE SET total = excluded.total, recent = excluded.recent, last_exit = excluded.last_exit`,
			envID, d.Name, d.Total, string(recentJSON), d.LastExit)
		if err != nil {
			return fmt.Errorf("save slot deaths: %w", err)
		}
		return nil
	})
}

// ListSlotDeaths returns the records of an environment's slots, by name.
func (db *DB) ListSlotDeaths(ctx context.Context, envID int64) ([]jack.SlotDeaths, error) {
	out := []jack.SlotDeaths{}
	err := db.read(ctx, func(tx *tx) error {
		rows, err := tx.QueryContext(ctx, `SELECT name, total, recent, last_exit FROM slot_deaths WHERE env_id = ? ORDER BY name`, envID)
		if err != nil {
			return fmt.Errorf("list slot deaths: %w", err)
		}
		defer rows.Close()
		for rows.Next() {
			var d jack.SlotDeaths
			var recentJSON string
			if err := rows.Scan(&d.Name, &d.Total, &recentJSON, &d.LastExit); err != nil {
				return fmt.Errorf("scan slot deaths: %w", err)
			}
			var recent []string
			if err := json.Unmarshal([]byte(recentJSON), &recent); err != nil {
				return fmt.Errorf("slot deaths of %s: %w", d.Name, err)
			}
			for _, s := range recent {
				t, err := parseTime(s)
				if err != nil {
					return err
				}
				d.Recent = append(d.Recent, t)
			}
			out = append(out, d)
		}
		return rows.Err()
	})
	return out, err
}
