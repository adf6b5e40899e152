package router

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/jack-paas/jack"
)

// Config configures a router process.
type Config struct {
	DataDir  string // holds router.sock, routes.json, router.pid
	HTTPAddr string // where to serve HTTP, e.g. ":80"
	Logger   *slog.Logger
	// ShutdownTimeout bounds how long a stopping router waits for requests
	// in flight; zero means 30s.
	ShutdownTimeout time.Duration
}

// Server timeouts of the HTTP edge.
const (
	readHeaderTimeout      = 10 * time.Second
	idleTimeout            = 120 * time.Second
	maxHeaderBytes         = 1 << 20
	defaultShutdownTimeout = 30 * time.Second
)

// Run is the router process: it serves the table saved in DataDir on
// HTTPAddr and the control API on DataDir/router.sock until ctx is done or
// the API asks it to stop, then stops gracefully, letting requests in flight
// finish. The caller turns SIGTERM into ctx's cancellation.
func Run(ctx context.Context, cfg Config) error {
	logger := cfg.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	shutdownTimeout := cfg.ShutdownTimeout
	if shutdownTimeout <= 0 {
		shutdownTimeout = defaultShutdownTimeout
	}
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return fmt.Errorf("create router data folder: %w", err)
	}

	proxy := NewProxy(logger)
	defer proxy.Close()
	routesPath := filepath.Join(cfg.DataDir, routesFile)
	if rt, err := loadTable(routesPath); err != nil {
		logger.Error("could not load the saved route table; serving none until the daemon sends one", "err", err)
	} else if err := proxy.SetRoutes(ctx, rt); err != nil {
		logger.Error("could not serve the saved route table; serving none until the daemon sends one", "err", err)
	}

	httpLn, err := net.Listen("tcp", cfg.HTTPAddr)
	if err != nil {
		err = listenError(cfg.HTTPAddr, err)
		logger.Error(err.Error())
		return err
	}
	defer httpLn.Close()
	socket := SocketPath(cfg.DataDir)
	controlLn, err := listenControl(socket)
	if err != nil {
		logger.Error("router could not open its control socket", "err", err)
		return err
	}
	defer controlLn.Close()

	ctx, stop := context.WithCancel(ctx)
	defer stop()
	counted := newTraffic(proxy)
	api := &controlAPI{
		traffic:    counted,
		proxy:      proxy,
		routesPath: routesPath,
		status: Status{
			PID:        os.Getpid(),
			Version:    jack.BuildVersion,
			HTTPAddr:   cfg.HTTPAddr,
			ListenAddr: httpLn.Addr().String(),
			StartedAt:  time.Now().UTC(),
		},
		shutdown: stop,
		logger:   logger,
	}
	httpServer := &http.Server{
		Handler:           counted,
		ReadHeaderTimeout: readHeaderTimeout,
		IdleTimeout:       idleTimeout,
		MaxHeaderBytes:    maxHeaderBytes,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
	controlServer := &http.Server{
		Handler:           api.handler(),
		ReadHeaderTimeout: readHeaderTimeout,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}

	pidPath := filepath.Join(cfg.DataDir, pidFile)
	if err := writeFileAtomic(pidPath, []byte(strconv.Itoa(os.Getpid())+"\n")); err != nil {
		logger.Warn("could not write the router's pid file", "err", err)
	}
	defer removePIDFile(pidPath)

	errc := make(chan error, 2)
	go func() { errc <- httpServer.Serve(httpLn) }()
	go func() { errc <- controlServer.Serve(controlLn) }()
	logger.Info("router serving", "http", httpLn.Addr().String(), "control", socket,
		"version", jack.BuildVersion, "generation", proxy.Generation())

	var serveErr error
	select {
	case <-ctx.Done():
	case serveErr = <-errc:
		logger.Error("router stopped serving", "err", serveErr)
	}
	logger.Info("router stopping; finishing requests in flight", "timeout", shutdownTimeout)
	shutdown(httpServer, shutdownTimeout, logger)
	shutdown(controlServer, 5*time.Second, logger)
	logger.Info("router stopped")
	if serveErr != nil && !errors.Is(serveErr, http.ErrServerClosed) {
		return fmt.Errorf("serve: %w", serveErr)
	}
	return nil
}

// shutdown stops srv gracefully within timeout, then closes what is left.
func shutdown(srv *http.Server, timeout time.Duration, logger *slog.Logger) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	if err := srv.Shutdown(ctx); err != nil {
		logger.Warn("requests still in flight at the shutdown timeout; closing them", "err", err)
		srv.Close()
	}
}

// listenError says why the HTTP port could not be opened, in words a user
// can act on.
func listenError(addr string, err error) error {
	switch {
	case errors.Is(err, syscall.EADDRINUSE):
		return jack.Errorf(jack.EUNAVAILABLE, listenFailure+"%s: address already in use", addr)
	case errors.Is(err, syscall.EACCES):
		return jack.Errorf(jack.EUNAVAILABLE, listenFailure+"%s: permission denied (ports below 1024 need root or CAP_NET_BIND_SERVICE)", addr)
	default:
		return jack.Errorf(jack.EUNAVAILABLE, listenFailure+"%s: %v", addr, rootCause(err))
	}
}

// listenControl opens the control socket, owner-only. A socket file nobody
// answers on is left over from a router that was killed, and removed; one
// somebody answers on belongs to a router still running.
func listenControl(path string) (net.Listener, error) {
	if conn, err := net.DialTimeout("unix", path, 500*time.Millisecond); err == nil {
		conn.Close()
		return nil, jack.Errorf(jack.ECONFLICT, "a router already answers on %s; stop it first", path)
	}
	if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("remove stale control socket: %w", err)
	}
	ln, err := net.Listen("unix", path)
	if err != nil {
		return nil, fmt.Errorf("listen on control socket: %w", err)
	}
	if err := os.Chmod(path, 0o600); err != nil {
		ln.Close()
		return nil, fmt.Errorf("restrict control socket: %w", err)
	}
	return ln, nil
}

// removePIDFile removes the pid file if it still names this process.
func removePIDFile(path string) {
	data, err := os.ReadFile(path)
	if err == nil && strings.TrimSpace(string(data)) == strconv.Itoa(os.Getpid()) {
		os.Remove(path)
	}
}
