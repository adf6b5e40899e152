package httpapi

import (
	"context"
	"net/http"
	"time"

	"github.com/jack-paas/jack"
)

// Monitor is what the API needs of the metrics monitor: health judged now,
// and the minute rollups of the last 24 hours.
type Monitor interface {
	jack.HealthService
	// Rollups returns an environment's rollups from since on; process ""
	// for the environment's own, "*" for every process's.
	Rollups(ctx context.Context, app, env, process string, since time.Time) ([]*jack.Rollup, error)
}

// addMetricsRoutes adds the endpoints of health, rollups, webhooks and the
// Prometheus exposition, all behind the token.
func (s *server) addMetricsRoutes(mux *http.ServeMux) {
	const env = "/v1/apps/{app}/envs/{env}"
	for pattern, h := range map[string]handlerFunc{
		"GET " + env + "/health":        s.handleEnvHealth,
		"GET " + env + "/metrics":       s.handleRollups,
		"POST " + env + "/hooks":        s.handleAddHook,
		"GET " + env + "/hooks":         s.handleListHooks,
		"DELETE " + env + "/hooks/{id}": s.handleRemoveHook,
		"GET " + env + "/deliveries":    s.handleListDeliveries,
		"GET /metrics":                  s.metricsHandler,
	} {
		mux.Handle(pattern, s.authenticated(h))
	}
}

// errNoMonitor answers health and metrics requests of a server started
// without a monitor.
var errNoMonitor = jack.Errorf(jack.EUNAVAILABLE, "this server collects no metrics")

// handleEnvHealth answers GET .../health: the environment's health with its
// causes, and each instance.
func (s *server) handleEnvHealth(w http.ResponseWriter, r *http.Request) error {
	env, err := s.findEnv(r)
	if err != nil {
		return err
	}
	if s.monitor == nil {
		return errNoMonitor
	}
	h, err := s.monitor.Health(r.Context(), env.App, env.Name)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, h)
}

// handleRollups answers GET .../metrics?since=1h&process=web: minute
// rollups, oldest first. since is a duration back from now (default 1h, at
// most 24h); process "" is the environment's own, "*" every process's.
func (s *server) handleRollups(w http.ResponseWriter, r *http.Request) error {
	env, err := s.findEnv(r)
	if err != nil {
		return err
	}
	if s.monitor == nil {
		return errNoMonitor
	}
	back := time.Hour
	if v := r.URL.Query().Get("since"); v != "" {
		if back, err = time.ParseDuration(v); err != nil || back <= 0 {
			return jack.Errorf(jack.EINVALID, "since=%q is not a duration; give one such as 30m or 24h", v)
		}
	}
	back = min(back, 24*time.Hour)
	process := r.URL.Query().Get("process")
	if process != "" && process != "*" {
		if err := jack.ValidateName("process", process); err != nil {
			return err
		}
	}
	list, err := s.monitor.Rollups(r.Context(), env.App, env.Name, process, time.Now().Add(-back))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, list)
}

// metricsHandler serves the Prometheus exposition, behind the token like
// the rest of the API.
func (s *server) metricsHandler(w http.ResponseWriter, r *http.Request) error {
	if s.metrics == nil {
		return errNoMonitor
	}
	s.metrics.ServeHTTP(w, r)
	return nil
}
