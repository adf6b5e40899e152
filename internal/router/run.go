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
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/jack-paas/jack"
)

// Config configures a router process.
type Config struct {
	DataDir   string // holds router.sock, routes.json, router.pid, certs/, acme/
	HTTPAddr  string // where to serve HTTP, e.g. ":80"
	HTTPSAddr string // where to serve HTTPS, e.g. ":443"; "" for none
	ACME      ACMEConfig
	// Handoff takes the listening sockets from the router that answers on
	// the data folder's control socket, instead of opening them, so that
	// replacing a router refuses no connection (see handoff.go).
	Handoff bool
	// AccessLogLimit is the size past which the access log is rotated; 0
	// means 64 MiB.
	AccessLogLimit int64
	Logger         *slog.Logger
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
	// handoffGrace is how long a router that handed off keeps its idle
	// keep-alive connections open, so that clients busy on them learn from
	// a Connection: close response to go to the new router.
	handoffGrace = time.Second
)

// settings identifies what a router serves, beyond its version: a running
// router with other settings is replaced.
func settings(httpAddr, httpsAddr string, acme ACMEConfig) string {
	s := "http=" + httpAddr
	if httpsAddr != "" {
		s = strings.Join([]string{s, "https=" + httpsAddr, "acme=" + acme.DirectoryURL,
			"email=" + acme.Email, "ca=" + acme.CACertFile, "renew=" + acme.RenewBefore.String()}, " ")
	}
	// The router inherits the environment of the server that starts it, so
	// both sides read the same count; a change replaces the router.
	if loops := os.Getenv(loopsEnv); loops != "" {
		s += " loops=" + loops
	}
	return s
}

// Run is the router process: it serves the table saved in DataDir on
// HTTPAddr (and HTTPSAddr), and the control API on DataDir/router.sock,
// until ctx is done, the API asks it to stop, or a new router takes its
// sockets; then it stops gracefully, letting requests in flight finish.
// The caller turns SIGTERM into ctx's cancellation.
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
	if os.Getenv("GOGC") == "" {
		// The router's heap is small and short-lived garbage is most of
		// its allocation: collecting less often costs little memory and
		// gives requests the CPU.
		debug.SetGCPercent(400)
	}

	proxy := NewProxy(logger)
	defer proxy.Close()
	proxy.access = openAccessLog(filepath.Join(cfg.DataDir, accessLogName), cfg.AccessLogLimit, logger)
	defer proxy.access.close()
	if cfg.HTTPSAddr != "" {
		edge, err := newEdgeTLS(cfg.DataDir, cfg.HTTPSAddr, cfg.ACME, logger)
		if err != nil {
			return fmt.Errorf("prepare HTTPS: %w", err)
		}
		defer edge.close()
		proxy.edge = edge
	}
	routesPath := filepath.Join(cfg.DataDir, routesFile)
	loadSavedTable(proxy, routesPath, logger)

	socket := SocketPath(cfg.DataDir)
	// Listeners are known by role and configured address, "http=:80": a
	// hand-off passes a socket only to a router that serves the same.
	httpKey, httpsKey := "http="+cfg.HTTPAddr, "https="+cfg.HTTPSAddr
	addrs := []string{httpKey}
	if cfg.HTTPSAddr != "" {
		addrs = append(addrs, httpsKey)
	}
	var ho *handoff
	if cfg.Handoff {
		var err error
		if ho, err = takeListeners(socket, addrs); err != nil {
			logger.Warn("could not take the sockets of the running router; opening them", "err", err)
			ho = nil
		}
	}
	listeners := map[string]net.Listener{}
	for _, key := range addrs {
		if ho != nil && ho.listeners[key] != nil {
			listeners[key] = ho.listeners[key]
			continue
		}
		_, addr, _ := strings.Cut(key, "=")
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			if ho != nil {
				ho.abort()
			}
			for _, l := range listeners {
				l.Close()
			}
			err = listenError(addr, err)
			logger.Error(err.Error())
			return err
		}
		listeners[key] = ln
	}

	ctx, stop := context.WithCancel(ctx)
	defer stop()
	handedOff := make(chan struct{})
	var handOnce sync.Once
	var releaseMu sync.Mutex
	released := false
	var controlLn net.Listener
	var controlServer *http.Server
	httpServer := newPlainServer(proxy, logger)
	set := &listenerSet{byAddr: listeners}
	set.release = func() {
		releaseMu.Lock()
		defer releaseMu.Unlock()
		released = true
		proxy.closing.Store(true)
		httpServer.SetKeepAlivesEnabled(false)
		for _, ln := range listeners {
			ln.Close()
		}
		if ul, ok := controlLn.(*net.UnixListener); ok {
			ul.SetUnlinkOnClose(false) // the path is the new router's now
		}
		controlLn.Close()
		controlServer.SetKeepAlivesEnabled(false) // clients reconnect, to the new router
		handOnce.Do(func() { close(handedOff) })
	}

	if proxy.edge != nil {
		proxy.edge.setPort(listeners[httpsKey].Addr().String())
	}
	errc := make(chan error, 3)
	go func() { errc <- httpServer.Serve(listeners[httpKey]) }()
	var httpsServer *http.Server
	if cfg.HTTPSAddr != "" {
		httpsServer = newEdgeServer(proxy, logger)
		httpsServer.TLSConfig = proxy.edge.tlsConfig()
		go func() { errc <- httpsServer.ServeTLS(listeners[httpsKey], "", "") }()
	}

	if ho != nil {
		if err := ho.complete(); err != nil {
			logger.Warn("the old router did not hand over cleanly", "err", err)
		} else {
			logger.Info("took the sockets of the old router", "addrs", addrs)
		}
		// The old router saved any table it got meanwhile.
		loadSavedTable(proxy, routesPath, logger)
	}
	var err error
	controlLn, err = listenControlRetry(socket, ho != nil)
	if err != nil {
		logger.Error("router could not open its control socket", "err", err)
		httpServer.Close()
		if httpsServer != nil {
			httpsServer.Close()
		}
		return err
	}
	status := Status{
		PID: os.Getpid(), Version: jack.BuildVersion, HTTPAddr: cfg.HTTPAddr, HTTPSAddr: cfg.HTTPSAddr,
		ListenAddr: listeners[httpKey].Addr().String(), StartedAt: time.Now().UTC(), Handoff: true,
		Settings: settings(cfg.HTTPAddr, cfg.HTTPSAddr, cfg.ACME),
	}
	if cfg.HTTPSAddr != "" {
		status.ListenTLSAddr = listeners[httpsKey].Addr().String()
	}
	api := &controlAPI{proxy: proxy, routesPath: routesPath, status: status, shutdown: stop, logger: logger, listeners: set}
	controlServer = &http.Server{
		Handler:           api.handler(),
		ReadHeaderTimeout: readHeaderTimeout,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
	pidPath := filepath.Join(cfg.DataDir, pidFile)
	if err := writeFileAtomic(pidPath, []byte(strconv.Itoa(os.Getpid())+"\n")); err != nil {
		logger.Warn("could not write the router's pid file", "err", err)
	}
	defer removePIDFile(pidPath)
	go func() { errc <- controlServer.Serve(controlLn) }()
	logger.Info("router serving", "http", status.ListenAddr, "https", status.ListenTLSAddr, "control", socket,
		"version", jack.BuildVersion, "generation", proxy.Generation())

	go closeIdleUpstreams(ctx, proxy)
	var serveErr error
	for serveErr == nil {
		select {
		case <-ctx.Done():
		case <-handedOff:
		case err := <-errc:
			releaseMu.Lock()
			if !released && !errors.Is(err, http.ErrServerClosed) {
				serveErr = err
				logger.Error("router stopped serving", "err", err)
			}
			releaseMu.Unlock()
			continue
		}
		break
	}
	select {
	case <-handedOff:
		logger.Info("handed off; finishing requests in flight", "timeout", shutdownTimeout)
		time.Sleep(handoffGrace)
	default:
		logger.Info("router stopping; finishing requests in flight", "timeout", shutdownTimeout)
		proxy.closing.Store(true)
		httpServer.SetKeepAlivesEnabled(false)
	}
	var wg sync.WaitGroup
	wg.Go(func() { shutdown(httpServer, shutdownTimeout, logger) })
	if httpsServer != nil {
		wg.Go(func() { shutdown(httpsServer, shutdownTimeout, logger) })
	}
	wg.Wait()
	shutdown(controlServer, 5*time.Second, logger)
	logger.Info("router stopped")
	if serveErr != nil {
		return fmt.Errorf("serve: %w", serveErr)
	}
	return nil
}

// closeIdleUpstreams closes upstream connections idle for longer than
// upstreamIdleTimeout, until ctx ends.
func closeIdleUpstreams(ctx context.Context, proxy *Proxy) {
	tick := time.NewTicker(upstreamIdleTimeout / 3)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-tick.C:
			proxy.registry.closeIdle(now.Add(-upstreamIdleTimeout))
		}
	}
}

// newEdgeServer is the HTTP server of the edge, with timeouts against slow
// clients.
func newEdgeServer(h http.Handler, logger *slog.Logger) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: readHeaderTimeout,
		IdleTimeout:       idleTimeout,
		MaxHeaderBytes:    maxHeaderBytes,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
}

// loadSavedTable serves the table saved at path if it is newer than the
// one served.
func loadSavedTable(proxy *Proxy, path string, logger *slog.Logger) {
	rt, err := loadTable(path)
	if err != nil {
		logger.Error("could not load the saved route table; serving the one in memory until the daemon sends one", "err", err)
		return
	}
	if rt.Generation < proxy.Generation() || (rt.Generation == 0 && len(rt.Routes) == 0) {
		return
	}
	if err := proxy.SetRoutes(context.Background(), rt); err != nil {
		logger.Error("could not serve the saved route table; serving the one in memory until the daemon sends one", "err", err)
	}
}

// stoppable is a server that stops gracefully (net/http's, or the plain
// HTTP http1.Server).
type stoppable interface {
	Shutdown(ctx context.Context) error
}

// shutdown stops srv gracefully within timeout, then closes what is left.
func shutdown(srv stoppable, timeout time.Duration, logger *slog.Logger) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	if err := srv.Shutdown(ctx); err != nil {
		logger.Warn("requests still in flight at the shutdown timeout; closing them", "err", err)
		if c, ok := srv.(interface{ Close() error }); ok {
			c.Close()
		} else if c, ok := srv.(interface{ Close() }); ok {
			c.Close()
		}
	}
}

// listenError says why a port could not be opened, in words a user can
// act on.
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

// listenControlRetry opens the control socket; after a hand-off it waits
// a moment for the old router to let go of it.
func listenControlRetry(path string, afterHandoff bool) (net.Listener, error) {
	deadline := time.Now().Add(5 * time.Second)
	for {
		ln, err := listenControl(path)
		if err == nil || !afterHandoff || jack.ErrorCode(err) != jack.ECONFLICT || time.Now().After(deadline) {
			return ln, err
		}
		time.Sleep(10 * time.Millisecond)
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
