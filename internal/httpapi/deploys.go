package httpapi

import (
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
	if err := req.Validate(); err != nil {
		return err
	}
	d, err := s.orch.Deploy(r.Context(), req)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusAccepted, d)
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
	if err := req.ReleaseOptions.Validate(); err != nil {
		return err
	}
	env, err := s.findEnv(r)
	if err != nil {
		return err
	}
	d, err := s.orch.Rollback(r.Context(), env.App, env.Name, req.To, req.ReleaseOptions)
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
