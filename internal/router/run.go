package router

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/jack-paas/jack"
	"github.com/jack-paas/jack/internal/router/http1"
)

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

// Main is a router process: it serves the table saved in its data folder
// on HTTP (and HTTPS), and the control API on DATA/router.sock. Run starts
// it and Close stops it, letting requests in flight finish; in between it
// serves until Done: its context ends, the control API asks it to stop, a
// new router takes its sockets, or a server fails. `jack router` runs one;
// tests run one in process on port 0.
type Main struct {
	cfg    Config
	logger *slog.Logger

	proxy     *Proxy
	listeners map[string]net.Listener // by role and configured address: "http=:80"
	plain     *http1.Server
	https     *http.Server // nil without HTTPS
	control   *http.Server
	controlLn net.Listener
	pidPath   string             // "" until the control API serves
	unwatch   func() bool        // stops watching Run's context
	stopIdle  context.CancelFunc // ends closeIdleUpstreams
	serving   sync.WaitGroup     // the servers' Serve calls
	running   bool               // Run succeeded

	mu       sync.Mutex
	released bool  // a new router took the sockets
	serveErr error // why a server stopped serving of itself

	stopping  chan struct{} // closed by stop: Done
	stopOnce  sync.Once
	closeOnce sync.Once
	closeErr  error
}

// New returns a router process for cfg, with defaults filled in; Run
// starts it.
func New(cfg Config) *Main {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.ShutdownTimeout <= 0 {
		cfg.ShutdownTimeout = defaultShutdownTimeout
	}
	return &Main{cfg: cfg, logger: cfg.Logger, stopping: make(chan struct{})}
}

// Run opens the listening sockets, or takes them from the running router
// (Config.Handoff), serves HTTP, HTTPS and the control API, and returns
// once they serve. Done is closed when ctx ends. The caller turns SIGTERM
// into ctx's end.
func (m *Main) Run(ctx context.Context) (err error) {
	defer func() {
		if err != nil {
			m.abort()
		}
	}()
	if err := m.prepare(); err != nil {
		return err
	}
	ho, err := m.listen()
	if err != nil {
		return err
	}
	m.serve()
	if ho != nil {
		m.completeHandoff(ho)
	}
	if err := m.serveControl(ho != nil); err != nil {
		return err
	}
	m.running = true
	m.unwatch = context.AfterFunc(ctx, m.stop)
	idleCtx, stopIdle := context.WithCancel(context.Background())
	m.stopIdle = stopIdle
	go closeIdleUpstreams(idleCtx, m.proxy)
	return nil
}

// Done is closed when the router should stop: Run's context ended, the
// control API asked it to, a new router took its sockets, or a server
// stopped serving. Close then stops it.
func (m *Main) Done() <-chan struct{} { return m.stopping }

// Close stops the router gracefully, and returns why a server stopped
// serving of itself, if one did. After a hand-off it first gives its
// keep-alive clients handoffGrace to learn from a Connection: close
// response to go to the new router; otherwise every response closes its
// connection from now on. Requests in flight get Config.ShutdownTimeout to
// finish, the control API five seconds.
func (m *Main) Close() error {
	m.closeOnce.Do(func() {
		if !m.running {
			return // Run failed and cleaned up, or never ran
		}
		m.stop()
		m.unwatch()
		m.stopIdle()
		m.windDown()
		m.shutdownServers()
		m.logger.Info("router stopped")
		m.closeResources()
		m.serving.Wait()
		if err := m.serveError(); err != nil {
			m.closeErr = fmt.Errorf("serve: %w", err)
		}
	})
	return m.closeErr
}

// prepare makes the data folder and the Proxy, with its access log, its
// HTTPS (certificates and ACME) and the table saved on disk.
func (m *Main) prepare() error {
	if err := os.MkdirAll(m.cfg.DataDir, 0o700); err != nil {
		return fmt.Errorf("create router data folder: %w", err)
	}
	if os.Getenv("GOGC") == "" {
		// The router's heap is small and short-lived garbage is most of
		// its allocation: collecting less often costs little memory and
		// gives requests the CPU.
		debug.SetGCPercent(400)
	}
	m.proxy = NewProxy(m.logger)
	m.proxy.access = openAccessLog(filepath.Join(m.cfg.DataDir, accessLogName), m.cfg.AccessLogLimit, m.logger)
	if m.cfg.HTTPSAddr != "" {
		edge, err := newEdgeTLS(m.cfg.DataDir, m.cfg.HTTPSAddr, m.cfg.ACME, m.logger)
		if err != nil {
			return fmt.Errorf("prepare HTTPS: %w", err)
		}
		m.proxy.edge = edge
	}
	loadSavedTable(m.proxy, m.routesPath(), m.logger)
	return nil
}

// serve starts the plain HTTP server, and the HTTPS one, on their
// listeners.
func (m *Main) serve() {
	if m.proxy.edge != nil {
		m.proxy.edge.setPort(m.listeners[m.httpsKey()].Addr().String())
	}
	m.plain = newPlainServer(m.proxy, m.logger)
	plainLn := m.listeners[m.httpKey()]
	m.serveInBackground(func() error { return m.plain.Serve(plainLn) })
	if m.cfg.HTTPSAddr != "" {
		m.https = newEdgeServer(m.proxy, m.logger)
		m.https.TLSConfig = m.proxy.edge.tlsConfig()
		tlsLn := m.listeners[m.httpsKey()]
		m.serveInBackground(func() error { return m.https.ServeTLS(tlsLn, "", "") })
	}
}

// completeHandoff tells the old router that this one serves, and serves
// the table the old one saved meanwhile.
func (m *Main) completeHandoff(ho *handoff) {
	if err := ho.complete(); err != nil {
		m.logger.Warn("the old router did not hand over cleanly", "err", err)
	} else {
		m.logger.Info("took the sockets of the old router", "addrs", m.listenerKeys())
	}
	loadSavedTable(m.proxy, m.routesPath(), m.logger)
}

// serveControl opens the control socket (after a hand-off, once the old
// router lets go of it), writes the pid file and serves the control API.
func (m *Main) serveControl(afterHandoff bool) error {
	socket := SocketPath(m.cfg.DataDir)
	ln, err := listenControlRetry(socket, afterHandoff)
	if err != nil {
		m.logger.Error("router could not open its control socket", "err", err)
		return err
	}
	m.controlLn = ln
	status := m.status()
	api := &controlAPI{proxy: m.proxy, routesPath: m.routesPath(), status: status, shutdown: m.stop, logger: m.logger,
		listeners: &listenerSet{byAddr: m.listeners, release: m.release}}
	m.control = &http.Server{
		Handler:           api.handler(),
		ReadHeaderTimeout: readHeaderTimeout,
		ErrorLog:          slog.NewLogLogger(m.logger.Handler(), slog.LevelWarn),
	}
	m.pidPath = filepath.Join(m.cfg.DataDir, pidFile)
	if err := writeFileAtomic(m.pidPath, []byte(strconv.Itoa(os.Getpid())+"\n")); err != nil {
		m.logger.Warn("could not write the router's pid file", "err", err)
	}
	m.serveInBackground(func() error { return m.control.Serve(ln) })
	m.logger.Info("router serving", "http", status.ListenAddr, "https", status.ListenTLSAddr, "control", socket,
		"version", jack.BuildVersion, "generation", m.proxy.Generation())
	return nil
}

// status is what the control API says of this router beyond its table.
func (m *Main) status() Status {
	st := Status{
		PID: os.Getpid(), Version: jack.BuildVersion, HTTPAddr: m.cfg.HTTPAddr, HTTPSAddr: m.cfg.HTTPSAddr,
		ListenAddr: m.listeners[m.httpKey()].Addr().String(), StartedAt: time.Now().UTC(), Handoff: true,
		Settings: m.cfg.settings(),
	}
	if m.cfg.HTTPSAddr != "" {
		st.ListenTLSAddr = m.listeners[m.httpsKey()].Addr().String()
	}
	return st
}

// serveInBackground runs a server's Serve on a goroutine of its own. A
// server that stops serving of itself (not closed, nor handed off) stops
// the router.
func (m *Main) serveInBackground(serve func() error) {
	m.serving.Add(1)
	go func() {
		defer m.serving.Done()
		err := serve()
		m.mu.Lock()
		defer m.mu.Unlock()
		if m.released || m.stopped() || errors.Is(err, http.ErrServerClosed) {
			return
		}
		m.serveErr = err
		m.logger.Error("router stopped serving", "err", err)
		m.stop()
	}()
}

// stop closes Done, once.
func (m *Main) stop() {
	m.stopOnce.Do(func() { close(m.stopping) })
}

func (m *Main) stopped() bool {
	select {
	case <-m.stopping:
		return true
	default:
		return false
	}
}

func (m *Main) serveError() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.serveErr
}

// release lets go of the sockets once a new router serves on them (see
// handoff.go): this one stops accepting, leaves the control socket to the
// new one, closes each connection after its response from now on, and
// stops.
func (m *Main) release() {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.released = true
	m.proxy.closing.Store(true)
	m.plain.SetKeepAlivesEnabled(false)
	for _, ln := range m.listeners {
		ln.Close()
	}
	if ul, ok := m.controlLn.(*net.UnixListener); ok {
		ul.SetUnlinkOnClose(false) // the path is the new router's now
	}
	m.controlLn.Close()
	m.control.SetKeepAlivesEnabled(false) // clients reconnect, to the new router
	m.stop()
}

// windDown readies the connections to close: after a hand-off, by giving
// busy keep-alive clients handoffGrace to learn to go to the new router;
// otherwise by closing each after its response from now on.
func (m *Main) windDown() {
	m.mu.Lock()
	released := m.released
	m.mu.Unlock()
	if released {
		m.logger.Info("handed off; finishing requests in flight", "timeout", m.cfg.ShutdownTimeout)
		time.Sleep(handoffGrace)
		return
	}
	m.logger.Info("router stopping; finishing requests in flight", "timeout", m.cfg.ShutdownTimeout)
	m.proxy.closing.Store(true)
	m.plain.SetKeepAlivesEnabled(false)
}

// shutdownServers stops the servers gracefully: HTTP and HTTPS side by
// side, then the control API.
func (m *Main) shutdownServers() {
	var wg sync.WaitGroup
	wg.Go(func() { shutdown(m.plain, m.cfg.ShutdownTimeout, m.logger) })
	if m.https != nil {
		wg.Go(func() { shutdown(m.https, m.cfg.ShutdownTimeout, m.logger) })
	}
	wg.Wait()
	shutdown(m.control, 5*time.Second, m.logger)
}

// abort undoes what a Run that failed did.
func (m *Main) abort() {
	if m.plain != nil {
		m.plain.Close()
	}
	if m.https != nil {
		m.https.Close()
	}
	for _, ln := range m.listeners {
		ln.Close() // in case a server had not begun to serve
	}
	m.closeResources()
	m.serving.Wait()
}

// closeResources removes the pid file and closes the Proxy's parts.
func (m *Main) closeResources() {
	if m.pidPath != "" {
		removePIDFile(m.pidPath)
	}
	if m.proxy == nil {
		return
	}
	if m.proxy.edge != nil {
		m.proxy.edge.close()
	}
	m.proxy.access.close()
	m.proxy.Close()
}

// routesPath is where the table last accepted is saved.
func (m *Main) routesPath() string { return filepath.Join(m.cfg.DataDir, routesFile) }

// httpKey and httpsKey name the listeners by role and configured address,
// "http=:80": a hand-off passes a socket only to a router that serves the
// same.
func (m *Main) httpKey() string  { return "http=" + m.cfg.HTTPAddr }
func (m *Main) httpsKey() string { return "https=" + m.cfg.HTTPSAddr }

// listenerKeys are the keys of the listeners the router serves on.
func (m *Main) listenerKeys() []string {
	if m.cfg.HTTPSAddr == "" {
		return []string{m.httpKey()}
	}
	return []string{m.httpKey(), m.httpsKey()}
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

// removePIDFile removes the pid file if it still names this process.
func removePIDFile(path string) {
	data, err := os.ReadFile(path)
	if err == nil && strings.TrimSpace(string(data)) == strconv.Itoa(os.Getpid()) {
		os.Remove(path)
	}
}
