package httpapi

import (
	"context"
	"net/http"

	"github.com/jack-paas/jack"
)

// handleDeploy answers POST .../deploys: it starts a deployment of an image
// or of an existing version and answers 202 with it running.
func (s *server) handleDeploy(w http.ResponseWriter, r *http.Request) error {
	var req jack.DeployRequest
	if err := readJSON(w, r, &req); err != nil {
		return err
	}
	env, err := s.findEnv(r)
	if err != nil {
		return err
	}
	req.App, req.Env = env.App, env.Name
	if err := validateDeploy(&req); err != nil {
		return err
	}
	d, err := s.orch.Deploy(r.Context(), req)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusAccepted, d)
}

// validateDeploy checks what can be checked of a deploy request without
// the engine.
func validateDeploy(req *jack.DeployRequest) error {
	switch {
	case req.Image == "" && req.Version == "" && req.Manifest == "":
		return jack.Errorf(jack.EINVALID, "nothing to deploy; give an image (--image REF) or an existing version (--version LABEL)")
	case req.Image != "" && req.Version != "":
		return jack.Errorf(jack.EINVALID, "give an image or a version to deploy, not both")
	case req.Version != "" && req.Manifest != "":
		return jack.Errorf(jack.EINVALID, "a version keeps the manifest it was made with; deploy an image to use a new manifest")
	case req.Version != "" && req.Label != "":
		return jack.Errorf(jack.EINVALID, "a label names a new version; it can't be given with an existing version")
	case req.Timeout < 0:
		return jack.Errorf(jack.EINVALID, "deploy timeout must be positive")
	case req.SkipRelease && req.ForceRelease:
		return jack.Errorf(jack.EINVALID, "give --skip-release or --force-release, not both")
	}
	if req.Strategy != "" {
		return jack.ValidateStrategy(req.Strategy)
	}
	return nil
}

// handleRollback answers POST .../rollback.
func (s *server) handleRollback(w http.ResponseWriter, r *http.Request) error {
	var req RollbackRequest
	if err := readJSON(w, r, &req); err != nil {
		return err
	}
	if req.To < 0 {
		return jack.Errorf(jack.EINVALID, "release %d is not a release number", req.To)
	}
	env, err := s.findEnv(r)
	if err != nil {
		return err
	}
	var d *jack.Deployment
	if req.Skip || req.Force {
		withRelease, ok := s.orch.(interface {
			RollbackWith(ctx context.Context, app, env string, to int, ro jack.ReleaseOptions) (*jack.Deployment, error)
		})
		if !ok {
			return jack.Errorf(jack.EINVALID, "this server can't choose whether a rollback runs the release command")
		}
		d, err = withRelease.RollbackWith(r.Context(), env.App, env.Name, req.To, req.ReleaseOptions)
	} else {
		d, err = s.orch.Rollback(r.Context(), env.App, env.Name, req.To)
	}
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusAccepted, d)
}

// handleScale answers POST .../scale with a body such as {"web":3}.
func (s *server) handleScale(w http.ResponseWriter, r *http.Request) error {
	var scale map[string]int
	if err := readJSON(w, r, &scale); err != nil {
		return err
	}
	if len(scale) == 0 {
		return jack.Errorf(jack.EINVALID, "nothing to scale; give PROCESS=N")
	}
	for process, n := range scale {
		if err := jack.ValidateName("process", process); err != nil {
			return err
		}
		if n < 0 || n > 100 {
			return jack.Errorf(jack.EINVALID, "%s=%d is out of range; scale a process to 0-100 instances", process, n)
		}
	}
	env, err := s.findEnv(r)
	if err != nil {
		return err
	}
	d, err := s.orch.Scale(r.Context(), env.App, env.Name, scale)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, ChangeResponse{Deployment: d, Stored: d == nil})
}

// handleRestart answers POST .../restart.
func (s *server) handleRestart(w http.ResponseWriter, r *http.Request) error {
	var req RestartRequest
	if err := readJSON(w, r, &req); err != nil {
		return err
	}
	if req.Process != "" {
		if err := jack.ValidateName("process", req.Process); err != nil {
			return err
		}
	}
	env, err := s.findEnv(r)
	if err != nil {
		return err
	}
	d, err := s.orch.Restart(r.Context(), env.App, env.Name, req.Process)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusAccepted, d)
}

// handleListReleases answers GET .../releases.
func (s *server) handleListReleases(w http.ResponseWriter, r *http.Request) error {
	env, err := s.findEnv(r)
	if err != nil {
		return err
	}
	releases, err := s.store.ListReleases(r.Context(), env.ID)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, nonNil(releases))
}

// handleListDeployments answers GET .../deployments?limit=N.
func (s *server) handleListDeployments(w http.ResponseWriter, r *http.Request) error {
	limit, err := queryInt(r, "limit", 0)
	if err != nil {
		return err
	}
	env, err := s.findEnv(r)
	if err != nil {
		return err
	}
	deployments, err := s.store.ListDeployments(r.Context(), env.ID, clampLimit(limit, 20, 1000))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, nonNil(deployments))
}

// handleInstances answers GET .../instances with the instances as the
// orchestrator sees them now.
func (s *server) handleInstances(w http.ResponseWriter, r *http.Request) error {
	env, err := s.findEnv(r)
	if err != nil {
		return err
	}
	instances, err := s.orch.Instances(r.Context(), env.App, env.Name)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, nonNil(instances))
}
