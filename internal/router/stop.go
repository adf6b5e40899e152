package router

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"
)

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
