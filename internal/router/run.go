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
		m.proxy.edge.configure(m.https)
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
