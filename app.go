package jack

import (
	"context"
	"time"
)

// App is a named application. It owns versions and environments.
type App struct {
	ID        int64     `json:"id"`
	Name      string    `json:"name"`
	CreatedAt time.Time `json:"created_at"`
}

// Validate reports whether the app can be stored.
func (a *App) Validate() error { return ValidateName("app", a.Name) }

// AppStore keeps apps.
type AppStore interface {
	// CreateApp stores a new app and sets its ID. ECONFLICT if the name is taken.
	CreateApp(ctx context.Context, app *App) error
	// FindApp returns the app by name. ENOTFOUND if there is none.
	FindApp(ctx context.Context, name string) (*App, error)
	// ListApps returns every app, by name.
	ListApps(ctx context.Context) ([]*App, error)
	// DeleteApp removes an app with its versions. ECONFLICT while it has environments.
	DeleteApp(ctx context.Context, id int64) error
}
