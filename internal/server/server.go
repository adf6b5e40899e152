// Package server wires Jack's daemon together: the store, the Docker
// runtime, the router process, the orchestrator and the API. It is the only
// package that knows every implementation; tests start it on port 0 with a
// temporary data folder.
package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"time"

	jack "github.com/jack-paas/jack"
	"github.com/jack-paas/jack/internal/cron"
	"github.com/jack-paas/jack/internal/deploy"
	"github.com/jack-paas/jack/internal/docker"
	"github.com/jack-paas/jack/internal/httpapi"
	"github.com/jack-paas/jack/internal/images"
	"github.com/jack-paas/jack/internal/localconf"
	"github.com/jack-paas/jack/internal/metrics"
	"github.com/jack-paas/jack/internal/notify"
	"github.com/jack-paas/jack/internal/router"
	"github.com/jack-paas/jack/internal/sqlite"
	"github.com/jack-paas/jack/internal/web"
)

// Config is what `jack server` is started with.
type Config struct {
	DataDir    string // default /var/lib/jack
	APIAddr    string // default 127.0.0.1:7070
	HTTPAddr   string // the router's address; default :80
	HTTPSAddr  string // the router's HTTPS address; "" for none
	ACME       router.ACMEConfig
	Domain     string // suffix of default hosts; default localhost
	DockerHost string // default DOCKER_HOST or the local socket
	// Exe is the jack binary the router process is started from; default
	// this process's own executable.
	Exe string
	// NoLocalPointer keeps the server from writing the file that lets
	// clients on this machine find it (tests run many servers).
	NoLocalPointer bool
	Logger         *slog.Logger

	// MetricsAddr, when set, serves /metrics there without a token.
	MetricsAddr string
	// MetricsInterval is how often instances are sampled; default 10s.
	MetricsInterval time.Duration
	// StatsD, when set, is the HOST:PORT of a StatsD or DogStatsD agent.
	StatsD string
	// Thresholds of the health rules; zero for metrics.DefaultThresholds.
	Thresholds metrics.Thresholds
	// StatsSource is where instance counters are read: "" (cgroup files
	// when present, else the engine), "cgroup" or "engine".
	StatsSource string
	// RegistryAddr, when set, serves Jack's own registry there (Docker
	// Registry API v2; see internal/registry).
	RegistryAddr string
}

// Main is a running daemon.
type Main struct {
	cfg       Config
	logger    *slog.Logger
	db        *sqlite.DB
	runtime   *docker.Runtime
	router    *router.Client
	spawn     router.SpawnConfig
	orch      *deploy.Orchestrator
	api       *http.Server
	apiLn     net.Listener
	runCtx    context.Context // ends with Close
	cancel    context.CancelFunc
	secretKey []byte // the data folder's secret key

	registry   *builtinRegistry // nil without --registry
	registryLn net.Listener
	wg         sync.WaitGroup
	tokenFile  string

	notifier   *notify.Notifier
	monitor    *metrics.Monitor
	statsd     *metrics.StatsD
	metricsLn  net.Listener
	metricsSrv *http.Server
	logs       *logParts
}

// New returns a daemon with defaults filled in; Run starts it.
func New(cfg Config) *Main {
	if cfg.DataDir == "" {
		cfg.DataDir = "/var/lib/jack"
	}
	if cfg.APIAddr == "" {
		cfg.APIAddr = "127.0.0.1:7070"
	}
	if cfg.HTTPAddr == "" {
		cfg.HTTPAddr = ":80"
	}
	if cfg.Domain == "" {
		cfg.Domain = "localhost"
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	return &Main{cfg: cfg, logger: cfg.Logger, tokenFile: filepath.Join(cfg.DataDir, "admin-token")}
}

// Run starts every part and returns once the API serves. Containers and the
// router keep running after Close, so stopping or killing the daemon costs
// no request.
func (m *Main) Run(ctx context.Context) (err error) {
	defer func() {
		if err != nil {
			m.Close()
		}
	}()
	if err := os.MkdirAll(m.cfg.DataDir, 0o700); err != nil {
		return fmt.Errorf("create data folder: %w", err)
	}
	if m.db, err = sqlite.Open(filepath.Join(m.cfg.DataDir, "jack.db")); err != nil {
		return fmt.Errorf("open store: %w", err)
	}
	if m.secretKey, m.db.Secrets, err = openSecrets(m.cfg.DataDir); err != nil {
		return err
	}
	if err := m.openRegistry(); err != nil {
		return err
	}
	if err := m.ensureAdminToken(ctx); err != nil {
		return err
	}
	owner, err := installationID(m.cfg.DataDir)
	if err != nil {
		return err
	}
	if m.runtime, err = docker.New(m.cfg.DockerHost, owner, m.logger.With("part", "docker")); err != nil {
		return fmt.Errorf("connect to Docker: %w", err)
	}
	if err := m.startRouter(ctx); err != nil {
		return err
	}
	m.startNotifier()
	if err := m.startLogs(ctx); err != nil {
		return err
	}
	m.orch = deploy.New(deploy.Config{
		Store: m.db, Runtime: m.runtime, Router: m.router, Owner: owner,
		Domain: m.cfg.Domain, Logger: m.logger.With("part", "deploy"),
		OnDeployment: m.notifier.Deploy, OnEvent: m.logs.events.Changed,
		StaticDir: filepath.Join(m.cfg.DataDir, "static"), Certificates: router.NewCertStore(m.cfg.DataDir),
		RegistryAuth: m.registryAuth,
	})
	if err := m.orch.Open(ctx); err != nil {
		return fmt.Errorf("start orchestrator: %w", err)
	}
	if err := m.startMonitor(); err != nil {
		return err
	}
	runCtx, cancel := context.WithCancel(context.Background())
	m.runCtx, m.cancel = runCtx, cancel
	if err := m.startRegistry(); err != nil {
		return err
	}
	m.wg.Add(2)
	go func() {
		defer m.wg.Done()
		m.superviseRouter(runCtx)
	}()
	go func() {
		defer m.wg.Done()
		cron.New(m.db, m.orch.Cron(), m.logger.With("part", "cron")).Run(runCtx)
	}()
	return m.serveAPI()
}

// startRouter adopts the router process that serves HTTPAddr, or starts one.
func (m *Main) startRouter(ctx context.Context) error {
	exe := m.cfg.Exe
	if exe == "" {
		var err error
		if exe, err = os.Executable(); err != nil {
			return fmt.Errorf("find own executable: %w", err)
		}
	}
	m.spawn = router.SpawnConfig{
		Exe:    exe,
		Router: router.Config{DataDir: m.cfg.DataDir, HTTPAddr: m.cfg.HTTPAddr, HTTPSAddr: m.cfg.HTTPSAddr, ACME: m.cfg.ACME},
		Logger: m.logger.With("part", "router"),
	}
	c, err := router.Ensure(ctx, m.spawn)
	if err != nil {
		return fmt.Errorf("start router: %w", err)
	}
	m.router = c
	return nil
}

// serveAPI listens on APIAddr and serves the API in the background.
func (m *Main) serveAPI() error {
	ln, err := net.Listen("tcp", m.cfg.APIAddr)
	if err != nil {
		return fmt.Errorf("listen for the API on %s: %w", m.cfg.APIAddr, err)
	}
	m.apiLn = ln
	api := httpapi.New(httpapi.Config{
		Store: m.db, Orchestrator: m.orch, Runner: runner{m.orch.OneOffs(), m.orch.Cron()},
		Edge: m.orch.Edge(), Certificates: m.orch.Edge(),
		Domain: m.cfg.Domain, HTTPAddr: m.cfg.HTTPAddr,
		Logger: m.logger.With("part", "api"), Monitor: m.monitor, Metrics: m.monitor.Handler(),
		Logs:       m.logs.service,
		Registries: &images.Registries{Store: m.db, Login: m.runtime},
	})
	handler := http.NewServeMux()
	handler.Handle("/v1/", api)
	handler.Handle("/metrics", api)
	handler.Handle("/", web.New(web.Config{
		Store: m.db, Orchestrator: m.orch, Domain: m.cfg.Domain, HTTPAddr: m.cfg.HTTPAddr,
		Logger: m.logger.With("part", "web"),
	}))
	// Streams (deployment and event follows) never end on their own; their
	// contexts end when shutdown begins, so Close does not wait for them.
	base, cancelStreams := context.WithCancel(context.Background())
	m.api = &http.Server{
		Handler: handler, ReadHeaderTimeout: 10 * time.Second,
		BaseContext: func(net.Listener) context.Context { return base },
	}
	m.api.RegisterOnShutdown(cancelStreams)
	m.wg.Add(1)
	go func() {
		defer m.wg.Done()
		if err := m.api.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			m.logger.Error("API server", "err", err)
		}
	}()
	if !m.cfg.NoLocalPointer && isLoopback(ln.Addr()) {
		if err := localconf.WriteLocalServer(m.APIURL(), m.tokenFile); err != nil {
			m.logger.Warn("write local server pointer", "err", err)
		}
	}
	m.logger.Info("jack server ready", "api", m.APIURL(), "http", m.cfg.HTTPAddr, "data", m.cfg.DataDir, "version", jack.BuildVersion)
	return m.serveMetrics()
}

// runner is the API's jack.Runner: the orchestrator's one-off runs and its
// cron jobs, two services that the API reaches through one interface.
type runner struct {
	*deploy.OneOffs
	*deploy.Cron
}

var _ jack.Runner = runner{}

// APIURL returns the URL clients reach the API at.
func (m *Main) APIURL() string {
	if m.apiLn == nil {
		return ""
	}
	return "http://" + m.apiLn.Addr().String()
}

// TokenFile returns the path of the admin token file.
func (m *Main) TokenFile() string { return m.tokenFile }

// Close stops the API, the orchestrator and the connections, and leaves
// containers and the router running.
func (m *Main) Close() error {
	if m.api != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		m.api.Shutdown(ctx)
		cancel()
	}
	m.closeRegistry()
	if m.cancel != nil {
		m.cancel()
	}
	m.closeMetrics()
	if m.orch != nil {
		m.orch.Close()
	}
	m.wg.Wait()
	if m.logs != nil {
		m.logs.close()
	}
	if m.runtime != nil {
		m.runtime.Close()
	}
	if m.db != nil {
		m.db.Close()
	}
	return nil
}

func isLoopback(a net.Addr) bool {
	t, ok := a.(*net.TCPAddr)
	return ok && t.IP.IsLoopback()
}
