// Package httpapi is Jack's JSON API over HTTP: the routes under /v1 that
// the CLI, the dashboard and scripts use, with token authentication and one
// mapping from jack.Error codes to HTTP statuses. It holds no state of its
// own; it translates requests into calls on a jack.Store and a
// jack.Orchestrator.
package httpapi

import (
	"log/slog"
	"net/http"
	"time"

	"github.com/jack-paas/jack"
)

// Config is what the API needs to serve.
type Config struct {
	Store        jack.Store
	Orchestrator jack.Orchestrator
	// Runner runs one-off commands and cron jobs; nil: those endpoints
	// answer EUNAVAILABLE.
	Runner jack.Runner
	// Edge changes domains and edge settings; Certificates keeps domains'
	// certificates. Either may be nil: their endpoints then refuse.
	Edge         jack.EdgeService
	Certificates jack.CertificateService
	// Domain is the suffix of environments' default URLs,
	// http://ENV.APP.Domain; "localhost" when empty.
	Domain string
	// HTTPAddr is the router's listen address, such as ":80" or
	// "0.0.0.0:8080"; its port appears in URLs unless it is 80.
	HTTPAddr string
	// Logger receives internal errors and one debug line per request.
	Logger *slog.Logger
	// Monitor serves health and rollups; Metrics serves the Prometheus
	// exposition on GET /metrics. Both optional (see health.go).
	Monitor Monitor
	Metrics http.Handler
	// Logs serves the log endpoints; nil answers them EUNAVAILABLE.
	Logs jack.LogService
	// Registries keeps the credentials Jack pulls with; nil answers its
	// endpoints EUNAVAILABLE.
	Registries jack.RegistryService
}

// server holds the handlers' dependencies.
type server struct {
	store  jack.Store
	orch   jack.Orchestrator
	runner jack.Runner
	logs   jack.LogService
	regs   jack.RegistryService
	edge   jack.EdgeService
	certs  jack.CertificateService
	urls   urlMaker
	logger *slog.Logger
	// monitor and metrics come from Config.
	monitor Monitor
	metrics http.Handler
	// pollInterval is how often a followed event stream asks the store for
	// new events.
	pollInterval time.Duration
}

// New returns the API as an http.Handler serving the routes under /v1.
func New(cfg Config) http.Handler {
	logger := cfg.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	s := &server{
		store:        cfg.Store,
		orch:         cfg.Orchestrator,
		runner:       cfg.Runner,
		logs:         cfg.Logs,
		regs:         cfg.Registries,
		edge:         cfg.Edge,
		certs:        cfg.Certificates,
		urls:         newURLMaker(cfg.Domain, cfg.HTTPAddr),
		logger:       logger,
		pollInterval: 200 * time.Millisecond,
		monitor:      cfg.Monitor,
		metrics:      cfg.Metrics,
	}
	return s.logRequests(s.routes())
}

// routes returns the mux with every endpoint. All but /v1/health need a
// token.
func (s *server) routes() *http.ServeMux {
	mux := http.NewServeMux()
	mux.Handle("GET /v1/health", s.public(s.handleHealth))

	const env = "/v1/apps/{app}/envs/{env}"
	for pattern, h := range map[string]handlerFunc{
		"POST /v1/apps":                s.handleCreateApp,
		"GET /v1/apps":                 s.handleListApps,
		"GET /v1/apps/{app}":           s.handleFindApp,
		"DELETE /v1/apps/{app}":        s.handleDeleteApp,
		"GET /v1/apps/{app}/versions":  s.handleListVersions,
		"POST /v1/apps/{app}/envs":     s.handleCreateEnv,
		"GET /v1/apps/{app}/envs":      s.handleListAppEnvs,
		"GET /v1/envs":                 s.handleListAllEnvs,
		"GET " + env:                   s.handleFindEnv,
		"DELETE " + env:                s.handleDeleteEnv,
		"POST " + env + "/deploys":     s.handleDeploy,
		"GET " + env + "/deployments":  s.handleListDeployments,
		"GET " + env + "/releases":     s.handleListReleases,
		"POST " + env + "/rollback":    s.handleRollback,
		"GET " + env + "/config":       s.handleListConfig,
		"GET " + env + "/config/{key}": s.handleGetConfig,
		"PATCH " + env + "/config":     s.handlePatchConfig,
		"POST " + env + "/scale":       s.handleScale,
		"POST " + env + "/restart":     s.handleRestart,
		"GET " + env + "/instances":    s.handleInstances,
		"GET " + env + "/events":       s.handleEvents,
		"GET " + env + "/status":       s.handleStatus,
		"GET /v1/deployments/{id}":     s.handleFindDeployment,
		"/":                            s.handleNotFound,
	} {
		mux.Handle(pattern, s.authenticated(h))
	}
	s.addMetricsRoutes(mux) // health.go
	s.runRoutes(mux, env)
	for pattern, h := range s.edgeRoutes(env) {
		mux.Handle(pattern, s.authenticated(h))
	}
	for pattern, h := range s.logRoutes(env) {
		mux.Handle(pattern, s.authenticated(h))
	}
	for pattern, h := range s.registryRoutes() {
		mux.Handle(pattern, s.authenticated(h))
	}
	mux.Handle("PUT "+env+"/deploy-on-push", s.authenticated(s.handleSetDeployOnPush))
	return mux
}

// handlerFunc is an API handler: it writes a response, or returns an error
// that the wrapper writes as the JSON error body.
type handlerFunc func(w http.ResponseWriter, r *http.Request) error

// public wraps a handler that needs no token.
func (s *server) public(h handlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := h(w, r); err != nil {
			s.writeError(w, r, err)
		}
	})
}

// handleHealth answers GET /v1/health: whether the API is up, and its
// version.
func (s *server) handleHealth(w http.ResponseWriter, r *http.Request) error {
	return writeJSON(w, http.StatusOK, Health{OK: true, Version: jack.BuildVersion})
}

// handleNotFound answers requests no route matches.
func (s *server) handleNotFound(w http.ResponseWriter, r *http.Request) error {
	return jack.Errorf(jack.ENOTFOUND, "no API endpoint %s %s; check the client's version against the server's (jack version)", r.Method, r.URL.Path)
}
