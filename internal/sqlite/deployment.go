package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jack-paas/jack"
)

// deploymentSelect reads what scanDeployment scans, from deployments d with
// the environment's reference and the release's number joined in.
const deploymentSelect = `SELECT d.id, d.env_id, a.name, e.name, d.release_id, r.number, d.from_release,
	d.kind, d.state, d.steps, d.reason, d.output, d.created_at, d.finished_at
	FROM deployments d
	JOIN environments e ON e.id = d.env_id
	JOIN apps a ON a.id = e.app_id
	LEFT JOIN releases r ON r.id = d.release_id`

// CreateDeployment stores a pending (the default) or running deployment of
// d.ReleaseID and sets ID, Env, ReleaseNumber and CreatedAt. ECONFLICT if
// the environment already has one that has not ended: the check and the
// insert share a transaction, and a unique index backs them up.
func (db *DB) CreateDeployment(ctx context.Context, d *jack.Deployment) error {
	if d.State == "" {
		d.State = jack.DeploymentPending
	}
	if d.State != jack.DeploymentPending && d.State != jack.DeploymentRunning {
		return jack.Errorf(jack.EINVALID, "a new deployment must be pending or running, not %s", d.State)
	}
	steps, output, err := encodeDeploymentLists(d)
	if err != nil {
		return err
	}
	return db.write(ctx, func(tx *tx) error {
		env, err := findEnvByID(ctx, tx, d.EnvID)
		if err != nil {
			return err
		}
		releaseNumber, err := releaseNumberOf(ctx, tx, env, d.ReleaseID)
		if err != nil {
			return err
		}
		if err := checkNoActiveDeployment(ctx, tx, env.ID, env.Ref(), 0); err != nil {
			return err
		}
		created := d.CreatedAt
		if created.IsZero() {
			created = tx.now
		}
		res, err := tx.ExecContext(ctx, `INSERT INTO deployments
			(env_id, release_id, from_release, kind, state, steps, reason, output, created_at, finished_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			d.EnvID, nullID(d.ReleaseID), d.FromRelease, d.Kind, d.State, steps, d.Reason, output,
			formatTime(created), nullTime(d.FinishedAt))
		if err != nil {
			return fmt.Errorf("insert deployment of %s: %w", env.Ref(), err)
		}
		id, err := res.LastInsertId()
		if err != nil {
			return err
		}
		d.ID, d.Env, d.ReleaseNumber, d.CreatedAt = id, env.Ref(), releaseNumber, created
		return nil
	})
}

// UpdateDeployment saves State, Steps, Reason, Output and FinishedAt, and
// ReleaseID (setting ReleaseNumber) once a deployment that began before its
// release has it; a deployment's release never changes after that.
// ENOTFOUND if the deployment is gone.
func (db *DB) UpdateDeployment(ctx context.Context, d *jack.Deployment) error {
	if err := validateState(d.State); err != nil {
		return err
	}
	steps, output, err := encodeDeploymentLists(d)
	if err != nil {
		return err
	}
	return db.write(ctx, func(tx *tx) error {
		current, err := findDeployment(ctx, tx, d.ID)
		if err != nil {
			return err
		}
		if !d.Done() {
			if err := checkNoActiveDeployment(ctx, tx, current.EnvID, current.Env, d.ID); err != nil {
				return err
			}
		}
		if d.ReleaseID != current.ReleaseID {
			if current.ReleaseID != 0 {
				return jack.Errorf(jack.ECONFLICT, "deployment %d already deploys release %d", d.ID, current.ReleaseNumber)
			}
			env, err := findEnvByID(ctx, tx, current.EnvID)
			if err != nil {
				return err
			}
			if d.ReleaseNumber, err = releaseNumberOf(ctx, tx, env, d.ReleaseID); err != nil {
				return err
			}
		}
		if _, err := tx.ExecContext(ctx, `UPDATE deployments
			SET release_id = ?, state = ?, steps = ?, reason = ?, output = ?, finished_at = ?
			WHERE id = ?`,
			nullID(d.ReleaseID), d.State, steps, d.Reason, output, nullTime(d.FinishedAt), d.ID); err != nil {
			return fmt.Errorf("update deployment %d: %w", d.ID, err)
		}
		return nil
	})
}

// FindDeployment returns a deployment by ID. ENOTFOUND if none.
func (db *DB) FindDeployment(ctx context.Context, id int64) (*jack.Deployment, error) {
	var d *jack.Deployment
	err := db.read(ctx, func(tx *tx) (err error) {
		d, err = findDeployment(ctx, tx, id)
		return err
	})
	return d, err
}

// ListDeployments returns an environment's deployments, newest first, at
// most limit of them (no limit when limit <= 0); envID 0 means every
// environment, and states, when given, keeps only those in one of them.
func (db *DB) ListDeployments(ctx context.Context, envID int64, limit int, states ...string) ([]*jack.Deployment, error) {
	var where []string
	var args []any
	if envID != 0 {
		where = append(where, "d.env_id = ?")
		args = append(args, envID)
	}
	if len(states) > 0 {
		where = append(where, "d.state IN ("+placeholders(len(states))+")")
		for _, s := range states {
			args = append(args, s)
		}
	}
	query := deploymentSelect
	if len(where) > 0 {
		query += " WHERE " + strings.Join(where, " AND ")
	}
	query += " ORDER BY d.id DESC"
	if limit > 0 {
		query += " LIMIT ?"
		args = append(args, limit)
	}

	deployments := []*jack.Deployment{}
	err := db.read(ctx, func(tx *tx) error {
		rows, err := tx.QueryContext(ctx, query, args...)
		if err != nil {
			return fmt.Errorf("list deployments: %w", err)
		}
		defer rows.Close()
		for rows.Next() {
			d, err := scanDeployment(rows)
			if err != nil {
				return err
			}
			deployments = append(deployments, d)
		}
		return rows.Err()
	})
	return deployments, err
}

// checkNoActiveDeployment returns ECONFLICT if the environment has a
// pending or running deployment other than exceptID.
func checkNoActiveDeployment(ctx context.Context, tx *tx, envID int64, envRef string, exceptID int64) error {
	var id int64
	err := tx.QueryRowContext(ctx, `SELECT id FROM deployments
		WHERE env_id = ? AND state IN (?, ?) AND id != ? LIMIT 1`,
		envID, jack.DeploymentPending, jack.DeploymentRunning, exceptID).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return nil
	} else if err != nil {
		return fmt.Errorf("check running deployments: %w", err)
	}
	return jack.Errorf(jack.ECONFLICT, "%s is already deploying (deployment %d); wait for it to finish", envRef, id)
}

func findDeployment(ctx context.Context, tx *tx, id int64) (*jack.Deployment, error) {
	d, err := scanDeployment(tx.QueryRowContext(ctx, deploymentSelect+` WHERE d.id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, jack.Errorf(jack.ENOTFOUND, "deployment %d does not exist", id)
	}
	return d, err
}

// releaseNumberOf returns the number of a release of env; 0 for release
// ID 0 (a deployment that prepares its release). ENOTFOUND if the release
// is not the environment's.
func releaseNumberOf(ctx context.Context, tx *tx, env *jack.Environment, releaseID int64) (int, error) {
	if releaseID == 0 {
		return 0, nil
	}
	var number int
	err := tx.QueryRowContext(ctx, `SELECT number FROM releases WHERE id = ? AND env_id = ?`, releaseID, env.ID).Scan(&number)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, jack.Errorf(jack.ENOTFOUND, "release %d is not a release of %s", releaseID, env.Ref())
	} else if err != nil {
		return 0, fmt.Errorf("find release %d: %w", releaseID, err)
	}
	return number, nil
}

// nullID stores ID 0 as NULL.
func nullID(id int64) any {
	if id == 0 {
		return nil
	}
	return id
}

func scanDeployment(s scanner) (*jack.Deployment, error) {
	var d jack.Deployment
	var app, env, steps, output, created string
	var finished sql.NullString
	var releaseID, releaseNumber sql.NullInt64
	if err := s.Scan(&d.ID, &d.EnvID, &app, &env, &releaseID, &releaseNumber, &d.FromRelease,
		&d.Kind, &d.State, &steps, &d.Reason, &output, &created, &finished); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return nil, err
		}
		return nil, fmt.Errorf("scan deployment: %w", err)
	}
	d.Env = app + "/" + env
	d.ReleaseID, d.ReleaseNumber = releaseID.Int64, int(releaseNumber.Int64)
	if err := decodeJSON(steps, &d.Steps); err != nil {
		return nil, err
	}
	if err := decodeJSON(output, &d.Output); err != nil {
		return nil, err
	}
	var err error
	if d.CreatedAt, err = parseTime(created); err != nil {
		return nil, err
	}
	if finished.Valid {
		t, err := parseTime(finished.String)
		if err != nil {
			return nil, err
		}
		d.FinishedAt = &t
	}
	return &d, nil
}

func encodeDeploymentLists(d *jack.Deployment) (steps, output string, err error) {
	if steps, err = encodeJSON(d.Steps); err != nil {
		return "", "", err
	}
	if output, err = encodeJSON(d.Output); err != nil {
		return "", "", err
	}
	return steps, output, nil
}

// nullTime stores a missing time as NULL.
func nullTime(t *time.Time) any {
	if t == nil || t.IsZero() {
		return nil
	}
	return formatTime(*t)
}

func validateState(state string) error {
	switch state {
	case jack.DeploymentPending, jack.DeploymentRunning, jack.DeploymentSucceeded, jack.DeploymentFailed:
		return nil
	}
	return jack.Errorf(jack.EINVALID, "deployment state %q is not known", state)
}
