package httpapi

import (
	"net/http"

	"github.com/jack-paas/jack"
)

// findApp returns the app named in the path, validating the name first so
// that a malformed one gets EINVALID rather than ENOTFOUND.
func (s *server) findApp(r *http.Request) (*jack.App, error) {
	name := r.PathValue("app")
	if err := jack.ValidateName("app", name); err != nil {
		return nil, err
	}
	return s.store.FindApp(r.Context(), name)
}

// handleCreateApp answers POST /v1/apps.
func (s *server) handleCreateApp(w http.ResponseWriter, r *http.Request) error {
	var req CreateAppRequest
	if err := readJSON(w, r, &req); err != nil {
		return err
	}
	app := &jack.App{Name: req.Name}
	if err := app.Validate(); err != nil {
		return err
	}
	if err := s.store.CreateApp(r.Context(), app); err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, app)
}

// handleListApps answers GET /v1/apps.
func (s *server) handleListApps(w http.ResponseWriter, r *http.Request) error {
	apps, err := s.store.ListApps(r.Context())
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, nonNil(apps))
}

// handleFindApp answers GET /v1/apps/{app}.
func (s *server) handleFindApp(w http.ResponseWriter, r *http.Request) error {
	app, err := s.findApp(r)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, app)
}

// handleDeleteApp answers DELETE /v1/apps/{app}. The store refuses while
// the app has environments; asking for confirmation is the client's job.
func (s *server) handleDeleteApp(w http.ResponseWriter, r *http.Request) error {
	app, err := s.findApp(r)
	if err != nil {
		return err
	}
	if err := s.store.DeleteApp(r.Context(), app.ID); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// handleListVersions answers GET /v1/apps/{app}/versions.
func (s *server) handleListVersions(w http.ResponseWriter, r *http.Request) error {
	app, err := s.findApp(r)
	if err != nil {
		return err
	}
	versions, err := s.store.ListVersions(r.Context(), app.ID)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, nonNil(versions))
}

// nonNil returns an empty slice for nil, so listings encode as [] and not
// null.
func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}
