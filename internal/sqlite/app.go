package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/jack-paas/jack"
)

// CreateApp stores a new app and sets its ID and CreatedAt. ECONFLICT if
// the name is taken.
func (db *DB) CreateApp(ctx context.Context, app *jack.App) error {
	if err := app.Validate(); err != nil {
		return err
	}
	return db.write(ctx, func(tx *tx) error {
		if _, err := findAppByName(ctx, tx, app.Name); err == nil {
			return jack.Errorf(jack.ECONFLICT, "app %s already exists", app.Name)
		} else if jack.ErrorCode(err) != jack.ENOTFOUND {
			return err
		}
		if app.CreatedAt.IsZero() {
			app.CreatedAt = tx.now
		}
		res, err := tx.ExecContext(ctx, `INSERT INTO apps (name, created_at) VALUES (?, ?)`,
			app.Name, formatTime(app.CreatedAt))
		if err != nil {
			return fmt.Errorf("insert app %s: %w", app.Name, err)
		}
		app.ID, err = res.LastInsertId()
		return err
	})
}

// FindApp returns the app by name. ENOTFOUND if there is none.
func (db *DB) FindApp(ctx context.Context, name string) (*jack.App, error) {
	var app *jack.App
	err := db.read(ctx, func(tx *tx) (err error) {
		app, err = findAppByName(ctx, tx, name)
		return err
	})
	return app, err
}

// ListApps returns every app, by name.
func (db *DB) ListApps(ctx context.Context) ([]*jack.App, error) {
	apps := []*jack.App{}
	err := db.read(ctx, func(tx *tx) error {
		rows, err := tx.QueryContext(ctx, `SELECT id, name, created_at FROM apps ORDER BY name`)
		if err != nil {
			return fmt.Errorf("list apps: %w", err)
		}
		defer rows.Close()
		for rows.Next() {
			app, err := scanApp(rows)
			if err != nil {
				return err
			}
			apps = append(apps, app)
		}
		return rows.Err()
	})
	return apps, err
}

// DeleteApp removes an app with its versions. ECONFLICT while it has
// environments, which hold releases of those versions.
func (db *DB) DeleteApp(ctx context.Context, id int64) error {
	return db.write(ctx, func(tx *tx) error {
		app, err := findAppByID(ctx, tx, id)
		if err != nil {
			return err
		}
		envs, err := envNamesOfApp(ctx, tx, id)
		if err != nil {
			return err
		} else if len(envs) > 0 {
			return jack.Errorf(jack.ECONFLICT, "app %s has environments (%s); delete them first",
				app.Name, strings.Join(envs, ", "))
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM apps WHERE id = ?`, id); err != nil {
			return fmt.Errorf("delete app %s: %w", app.Name, err)
		}
		return nil
	})
}

func findAppByName(ctx context.Context, tx *tx, name string) (*jack.App, error) {
	app, err := scanApp(tx.QueryRowContext(ctx, `SELECT id, name, created_at FROM apps WHERE name = ?`, name))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errAppNotFound(name)
	}
	return app, err
}

func findAppByID(ctx context.Context, tx *tx, id int64) (*jack.App, error) {
	app, err := scanApp(tx.QueryRowContext(ctx, `SELECT id, name, created_at FROM apps WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errAppIDNotFound(id)
	}
	return app, err
}

func envNamesOfApp(ctx context.Context, tx *tx, appID int64) ([]string, error) {
	rows, err := tx.QueryContext(ctx, `SELECT name FROM environments WHERE app_id = ? ORDER BY name`, appID)
	if err != nil {
		return nil, fmt.Errorf("list environments of app %d: %w", appID, err)
	}
	defer rows.Close()
	var names []string
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			return nil, fmt.Errorf("scan environment name: %w", err)
		}
		names = append(names, name)
	}
	return names, rows.Err()
}

func scanApp(s scanner) (*jack.App, error) {
	var app jack.App
	var created string
	if err := s.Scan(&app.ID, &app.Name, &created); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return nil, err
		}
		return nil, fmt.Errorf("scan app: %w", err)
	}
	var err error
	app.CreatedAt, err = parseTime(created)
	return &app, err
}
