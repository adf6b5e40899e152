package httpapi

import "net/http"

// handleStatus answers GET .../status: release, version, last deployment
// and instance counts of an environment in one answer.
func (s *server) handleStatus(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	env, err := s.findEnv(r)
	if err != nil {
		return err
	}
	view := s.urls.view(env)
	st := Status{Env: view, URL: view.URL, Instances: map[string]map[string]int{}}
	if env.Release > 0 {
		if st.Release, err = s.store.FindRelease(ctx, env.ID, env.Release); err != nil {
			return err
		}
		st.Version = st.Release.Version
		v, err := s.store.FindVersionByID(ctx, st.Release.VersionID)
		if err != nil {
			return err
		}
		st.Image = v.Image
	}
	last, err := s.store.ListDeployments(ctx, env.ID, 1)
	if err != nil {
		return err
	}
	if len(last) > 0 {
		st.LastDeployment, st.State = last[0], last[0].State
	}
	instances, err := s.orch.Instances(ctx, env.App, env.Name)
	if err != nil {
		return err
	}
	for _, in := range instances {
		if st.Instances[in.Process] == nil {
			st.Instances[in.Process] = map[string]int{}
		}
		st.Instances[in.Process][in.State]++
	}
	if s.monitor != nil {
		if st.Health, err = s.monitor.Health(ctx, env.App, env.Name); err != nil {
			return err
		}
		st.Health.Instances = nil // `jack health` shows them
	}
	return writeJSON(w, http.StatusOK, st)
}
