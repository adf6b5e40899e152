package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/jack-paas/jack"
)

// envColumns are the columns scanEnv reads, from environments e joined
// with apps a.
const envColumns = `e.id, e.app_id, a.name, e.name, e.tier, e.strategy, e.config, e.scale, e.release, e.created_at, e.edge, e.deploy_on_push`

// CreateEnv stores a new environment of env.AppID and sets its ID, App and
// CreatedAt; its domains are stored, and left in env, normalized.
// ECONFLICT if the app already has one of that name, or a domain is taken.
func (db *DB) CreateEnv(ctx context.Context, env *jack.Environment) error {
	if err := env.Validate(); err != nil {
		return err
	}
	domains := normalizeDomains(env.Domains)
	return db.write(ctx, func(tx *tx) error {
		app, err := findAppByID(ctx, tx, env.AppID)
		if err != nil {
			return err
		}
		if _, err := findEnv(ctx, tx, app.Name, env.Name); err == nil {
			return jack.Errorf(jack.ECONFLICT, "environment %s/%s already exists", app.Name, env.Name)
		} else if jack.ErrorCode(err) != jack.ENOTFOUND {
			return err
		}
		if err := checkDomainsFree(ctx, tx, 0, domains); err != nil {
			return err
		}
		config, scale, err := encodeEnvMaps(env)
		if err != nil {
			return err
		}
		edge, err := encodeJSON(env.Edge)
		if err != nil {
			return err
		}
		if env.CreatedAt.IsZero() {
			env.CreatedAt = tx.now
		}
		res, err := tx.ExecContext(ctx, `INSERT INTO environments
			(app_id, name, tier, strategy, config, scale, release, created_at, edge)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			env.AppID, env.Name, env.Tier, env.Strategy, config, scale, env.Release, formatTime(env.CreatedAt), edge)
		if err != nil {
			return fmt.Errorf("insert environment %s/%s: %w", app.Name, env.Name, err)
		}
		if env.ID, err = res.LastInsertId(); err != nil {
			return err
		}
		if err := replaceDomains(ctx, tx, env.ID, domains); err != nil {
			return err
		}
		env.App, env.Domains = app.Name, domains
		return nil
	})
}

// FindEnv returns an environment by app and environment name. ENOTFOUND
// names which of the two is missing.
func (db *DB) FindEnv(ctx context.Context, app, name string) (*jack.Environment, error) {
	var env *jack.Environment
	err := db.read(ctx, func(tx *tx) (err error) {
		env, err = findEnv(ctx, tx, app, name)
		return err
	})
	return env, err
}

// ListEnvs returns the environments of an app by name, or of every app
// when app is "", ordered by app then name. ENOTFOUND if the app is missing.
func (db *DB) ListEnvs(ctx context.Context, app string) ([]*jack.Environment, error) {
	envs := []*jack.Environment{}
	err := db.read(ctx, func(tx *tx) error {
		if app != "" {
			if _, err := findAppByName(ctx, tx, app); err != nil {
				return err
			}
		}
		rows, err := tx.QueryContext(ctx, `SELECT `+envColumns+`
			FROM environments e JOIN apps a ON a.id = e.app_id
			WHERE ? = '' OR a.name = ?
			ORDER BY a.name, e.name`, app, app)
		if err != nil {
			return fmt.Errorf("list environments: %w", err)
		}
		defer rows.Close()
		for rows.Next() {
			env, err := scanEnv(rows)
			if err != nil {
				return err
			}
			envs = append(envs, env)
		}
		if err := rows.Err(); err != nil {
			return fmt.Errorf("list environments: %w", err)
		}
		return fillDomains(ctx, tx, envs)
	})
	return envs, err
}

// UpdateEnv saves Tier, Strategy, Config, Scale and Release. Domains and
// edge settings are left as stored: they change with SetDomains,
// SwapDomains and SetEdge, so that a deployment ending meanwhile does not
// undo them. ENOTFOUND if the environment is gone.
func (db *DB) UpdateEnv(ctx context.Context, env *jack.Environment) error {
	if err := env.Validate(); err != nil {
		return err
	}
	return db.write(ctx, func(tx *tx) error {
		stored, err := findEnvByID(ctx, tx, env.ID)
		if err != nil {
			return err
		}
		config, scale, err := encodeEnvMaps(env)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE environments
			SET tier = ?, strategy = ?, config = ?, scale = ?, release = ?
			WHERE id = ?`,
			env.Tier, env.Strategy, config, scale, env.Release, env.ID); err != nil {
			return fmt.Errorf("update environment %d: %w", env.ID, err)
		}
		env.Domains, env.Edge = stored.Domains, stored.Edge
		return nil
	})
}

// SetDeployOnPush sets the tag whose push deploys the environment ("" for
// none). ENOTFOUND if the environment is gone.
func (db *DB) SetDeployOnPush(ctx context.Context, envID int64, tag string) error {
	return db.write(ctx, func(tx *tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE environments SET deploy_on_push = ? WHERE id = ?`, tag, envID)
		if err != nil {
			return fmt.Errorf("set deploy on push of environment %d: %w", envID, err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return jack.Errorf(jack.ENOTFOUND, "environment %d does not exist", envID)
		}
		return nil
	})
}

// DeleteEnv removes an environment with its domains, releases, deployments
// and events. ENOTFOUND if there is none.
func (db *DB) DeleteEnv(ctx context.Context, id int64) error {
	return db.write(ctx, func(tx *tx) error {
		env, err := findEnvByID(ctx, tx, id)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM environments WHERE id = ?`, id); err != nil {
			return fmt.Errorf("delete environment %s: %w", env.Ref(), err)
		}
		return nil
	})
}

func findEnv(ctx context.Context, tx *tx, app, name string) (*jack.Environment, error) {
	env, err := scanEnv(tx.QueryRowContext(ctx, `SELECT `+envColumns+`
		FROM environments e JOIN apps a ON a.id = e.app_id
		WHERE a.name = ? AND e.name = ?`, app, name))
	if errors.Is(err, sql.ErrNoRows) {
		if _, err := findAppByName(ctx, tx, app); err != nil {
			return nil, err
		}
		return nil, errEnvNotFound(app, name)
	} else if err != nil {
		return nil, err
	}
	return env, fillDomains(ctx, tx, []*jack.Environment{env})
}

func findEnvByID(ctx context.Context, tx *tx, id int64) (*jack.Environment, error) {
	env, err := scanEnv(tx.QueryRowContext(ctx, `SELECT `+envColumns+`
		FROM environments e JOIN apps a ON a.id = e.app_id
		WHERE e.id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errEnvIDNotFound(id)
	} else if err != nil {
		return nil, err
	}
	return env, fillDomains(ctx, tx, []*jack.Environment{env})
}

func scanEnv(s scanner) (*jack.Environment, error) {
	var env jack.Environment
	var config, scale, created string
	var edge string
	if err := s.Scan(&env.ID, &env.AppID, &env.App, &env.Name, &env.Tier, &env.Strategy,
		&config, &scale, &env.Release, &created, &edge, &env.DeployOnPush); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return nil, err
		}
		return nil, fmt.Errorf("scan environment: %w", err)
	}
	var err error
	if env.Config, err = decodeConfig(config); err != nil {
		return nil, err
	}
	if env.Scale, err = decodeScale(scale); err != nil {
		return nil, err
	}
	if env.CreatedAt, err = parseTime(created); err != nil {
		return nil, err
	}
	if err := decodeJSON(edge, &env.Edge); err != nil {
		return nil, fmt.Errorf("decode edge settings of environment %d: %w", env.ID, err)
	}
	env.Domains = []string{}
	return &env, nil
}

func encodeEnvMaps(env *jack.Environment) (config, scale string, err error) {
	if config, err = encodeConfig(env.Config); err != nil {
		return "", "", err
	}
	if scale, err = encodeScale(env.Scale); err != nil {
		return "", "", err
	}
	return config, scale, nil
}

// normalizeDomains returns domains in their stored form, in order, without
// repeats.
func normalizeDomains(domains []string) []string {
	out := []string{}
	seen := map[string]bool{}
	for _, d := range domains {
		d = jack.NormalizeDomain(d)
		if !seen[d] {
			seen[d] = true
			out = append(out, d)
		}
	}
	return out
}

// checkDomainsFree returns ECONFLICT naming the environment, other than
// envID, that already answers to one of domains.
func checkDomainsFree(ctx context.Context, tx *tx, envID int64, domains []string) error {
	for _, d := range domains {
		var app, env string
		err := tx.QueryRowContext(ctx, `SELECT a.name, e.name
			FROM domains d JOIN environments e ON e.id = d.env_id JOIN apps a ON a.id = e.app_id
			WHERE d.domain = ? AND d.env_id != ?`, d, envID).Scan(&app, &env)
		if errors.Is(err, sql.ErrNoRows) {
			continue
		} else if err != nil {
			return fmt.Errorf("check domain %s: %w", d, err)
		}
		return jack.Errorf(jack.ECONFLICT, "domain %s is already used by %s/%s", d, app, env)
	}
	return nil
}

func replaceDomains(ctx context.Context, tx *tx, envID int64, domains []string) error {
	if _, err := tx.ExecContext(ctx, `DELETE FROM domains WHERE env_id = ?`, envID); err != nil {
		return fmt.Errorf("clear domains of environment %d: %w", envID, err)
	}
	for i, d := range domains {
		if _, err := tx.ExecContext(ctx, `INSERT INTO domains (domain, env_id, position) VALUES (?, ?, ?)`,
			d, envID, i); err != nil {
			return fmt.Errorf("insert domain %s: %w", d, err)
		}
	}
	return nil
}

// fillDomains sets the Domains of envs, in the order they were given.
func fillDomains(ctx context.Context, tx *tx, envs []*jack.Environment) error {
	if len(envs) == 0 {
		return nil
	}
	byID := make(map[int64]*jack.Environment, len(envs))
	ids := make([]any, 0, len(envs))
	for _, env := range envs {
		byID[env.ID] = env
		ids = append(ids, env.ID)
	}
	rows, err := tx.QueryContext(ctx, `SELECT env_id, domain FROM domains
		WHERE env_id IN (`+placeholders(len(ids))+`) ORDER BY env_id, position`, ids...)
	if err != nil {
		return fmt.Errorf("list domains: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var envID int64
		var domain string
		if err := rows.Scan(&envID, &domain); err != nil {
			return fmt.Errorf("scan domain: %w", err)
		}
		byID[envID].Domains = append(byID[envID].Domains, domain)
	}
	return rows.Err()
}
