package httpapi

import (
	"net/http"

	"github.com/jack-paas/jack"
)

// AddRegistryRequest is the body of POST /v1/registries: credentials to
// pull from a registry with. The password travels to the server only.
type AddRegistryRequest struct {
	Host     string `json:"host"`
	Username string `json:"username"`
	Password string `json:"password"`
}

// registryRoutes returns the endpoints of registries' credentials.
func (s *server) registryRoutes() map[string]handlerFunc {
	return map[string]handlerFunc{
		"GET /v1/registries":           s.handleListRegistries,
		"POST /v1/registries":          s.handleAddRegistry,
		"DELETE /v1/registries/{host}": s.handleRemoveRegistry,
	}
}

// registries returns the registry service, or why there is none.
func (s *server) registries() (jack.RegistryService, error) {
	if s.regs == nil {
		return nil, jack.Errorf(jack.EUNAVAILABLE, "this server keeps no registry credentials")
	}
	return s.regs, nil
}

// handleListRegistries answers GET /v1/registries: hosts and user names,
// never passwords.
func (s *server) handleListRegistries(w http.ResponseWriter, r *http.Request) error {
	regs, err := s.registries()
	if err != nil {
		return err
	}
	list, err := regs.ListRegistries(r.Context())
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, nonNil(list))
}

// handleAddRegistry answers POST /v1/registries.
func (s *server) handleAddRegistry(w http.ResponseWriter, r *http.Request) error {
	regs, err := s.registries()
	if err != nil {
		return err
	}
	var req AddRegistryRequest
	if err := readJSON(w, r, &req); err != nil {
		return err
	}
	auth := &jack.RegistryAuth{Host: req.Host, Username: req.Username, Password: req.Password}
	if err := regs.AddRegistry(r.Context(), auth); err != nil {
		return err
	}
	auth.Password = ""
	return writeJSON(w, http.StatusCreated, auth)
}

// handleRemoveRegistry answers DELETE /v1/registries/{host}.
func (s *server) handleRemoveRegistry(w http.ResponseWriter, r *http.Request) error {
	regs, err := s.registries()
	if err != nil {
		return err
	}
	if err := regs.RemoveRegistry(r.Context(), r.PathValue("host")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// DeployOnPushRequest is the body of PUT .../deploy-on-push.
type DeployOnPushRequest struct {
	Tag string `json:"tag"` // "" turns it off
}

// handleSetDeployOnPush answers PUT /v1/apps/{app}/envs/{env}/deploy-on-push:
// the tag whose push to Jack's registry deploys the environment.
func (s *server) handleSetDeployOnPush(w http.ResponseWriter, r *http.Request) error {
	env, err := s.findEnv(r)
	if err != nil {
		return err
	}
	var req DeployOnPushRequest
	if err := readJSON(w, r, &req); err != nil {
		return err
	}
	if req.Tag != "" {
		if err := jack.ValidateTag(req.Tag); err != nil {
			return err
		}
	}
	if err := s.store.SetDeployOnPush(r.Context(), env.ID, req.Tag); err != nil {
		return err
	}
	env.DeployOnPush = req.Tag
	return writeJSON(w, http.StatusOK, env)
}
