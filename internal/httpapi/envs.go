package httpapi

import (
	"net/http"

	"github.com/jack-paas/jack"
)

// findEnv returns the environment named in the path, validating both names
// first.
func (s *server) findEnv(r *http.Request) (*jack.Environment, error) {
	app, name := r.PathValue("app"), r.PathValue("env")
	if err := jack.ValidateName("app", app); err != nil {
		return nil, err
	}
	if err := jack.ValidateName("environment", name); err != nil {
		return nil, err
	}
	return s.store.FindEnv(r.Context(), app, name)
}

// handleCreateEnv answers POST /v1/apps/{app}/envs.
func (s *server) handleCreateEnv(w http.ResponseWriter, r *http.Request) error {
	var req CreateEnvRequest
	if err := readJSON(w, r, &req); err != nil {
		return err
	}
	app, err := s.findApp(r)
	if err != nil {
		return err
	}
	env := &jack.Environment{
		AppID:    app.ID,
		App:      app.Name,
		Name:     req.Name,
		Tier:     req.Tier,
		Strategy: req.Strategy,
		Config:   map[string]string{},
		Scale:    map[string]int{},
		Edge:     req.Edge.Apply(jack.EdgeSettings{}),
	}
	if env.Tier == "" {
		env.Tier = jack.TierWeb
	}
	for _, d := range req.Domains {
		env.Domains = append(env.Domains, jack.NormalizeDomain(d))
	}
	if err := env.Validate(); err != nil {
		return err
	}
	if err := s.store.CreateEnv(r.Context(), env); err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, s.urls.view(env))
}

// handleListAppEnvs answers GET /v1/apps/{app}/envs.
func (s *server) handleListAppEnvs(w http.ResponseWriter, r *http.Request) error {
	app, err := s.findApp(r)
	if err != nil {
		return err
	}
	return s.writeEnvs(w, r, app.Name)
}

// handleListAllEnvs answers GET /v1/envs: the environments of every app.
func (s *server) handleListAllEnvs(w http.ResponseWriter, r *http.Request) error {
	return s.writeEnvs(w, r, "")
}

// writeEnvs writes the environments of app ("" for all) with their URLs.
func (s *server) writeEnvs(w http.ResponseWriter, r *http.Request, app string) error {
	envs, err := s.store.ListEnvs(r.Context(), app)
	if err != nil {
		return err
	}
	views := make([]*Env, 0, len(envs))
	for _, env := range envs {
		views = append(views, s.urls.view(env))
	}
	return writeJSON(w, http.StatusOK, views)
}

// handleFindEnv answers GET /v1/apps/{app}/envs/{env}.
func (s *server) handleFindEnv(w http.ResponseWriter, r *http.Request) error {
	env, err := s.findEnv(r)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, s.urls.view(env))
}

// handleDeleteEnv answers DELETE /v1/apps/{app}/envs/{env}: the
// orchestrator stops the instances, then removes the environment; with
// ?volumes=1 its volumes go too, else they stay.
func (s *server) handleDeleteEnv(w http.ResponseWriter, r *http.Request) error {
	volumes, err := queryBool(r, "volumes")
	if err != nil {
		return err
	}
	env, err := s.findEnv(r)
	if err != nil {
		return err
	}
	if volumes {
		if _, err := s.runnerOrFail(); err != nil {
			return err
		}
	}
	if err := s.orch.DeleteEnv(r.Context(), env.App, env.Name); err != nil {
		return err
	}
	if volumes {
		if _, err := s.runner.DeleteVolumes(r.Context(), env.App, env.Name); err != nil {
			return jack.Errorf(jack.ErrorCode(err), "%s was deleted, but its volumes were not: %s", env.Ref(), jack.ErrorMessage(err))
		}
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
