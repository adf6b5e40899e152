package router

import (
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"strings"
	"syscall"
	"time"

	"github.com/jack-paas/jack"
)

// listen opens the listening sockets; with Config.Handoff it first takes
// them from the running router, and opens those it could not take. It
// returns the hand-off in progress, if any.
func (m *Main) listen() (*handoff, error) {
	keys := m.listenerKeys()
	var ho *handoff
	if m.cfg.Handoff {
		var err error
		if ho, err = takeListeners(SocketPath(m.cfg.DataDir), keys); err != nil {
			m.logger.Warn("could not take the sockets of the running router; opening them", "err", err)
			ho = nil
		}
	}
	listeners := map[string]net.Listener{}
	for _, key := range keys {
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
			m.logger.Error(err.Error())
			return nil, err
		}
		listeners[key] = ln
	}
	m.listeners = listeners
	return ho, nil
}

// listenFailure is how Run's error about the HTTP port begins.
const listenFailure = "router could not listen on "

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
