package router

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/jack-paas/jack"
)

// SpawnConfig says how the daemon starts its router process.
type SpawnConfig struct {
	// Exe is the jack binary, usually os.Executable(): the router is
	// `Exe router` with Router's Args.
	Exe string
	// Router is what the router serves with: only its command line
	// reaches the process, and Ensure decides Handoff.
	Router Config
	Logger *slog.Logger
	// CheckInterval is how often Watchdog checks the router; zero means 1s.
	CheckInterval time.Duration
}

func (cfg SpawnConfig) logger() *slog.Logger {
	if cfg.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return cfg.Logger
}

// Timeouts of router supervision.
const (
	startTimeout  = 5 * time.Second                        // for a new router to answer
	statusTimeout = 2 * time.Second                        // for a running one to answer
	stopTimeout   = defaultShutdownTimeout + 5*time.Second // for an old one to go
	pollInterval  = 20 * time.Millisecond
)

// Ensure returns a client of a router serving cfg's addresses with this
// binary's version. It adopts the router that answers on the data folder's
// socket if it is that one. If it is another (version or settings), it
// starts a new one that takes the old one's listening sockets, so that the
// replacement refuses no connection (a router too old to hand off is
// stopped first). A new router is detached from the daemon (its own
// session, output appended to router.log), so that neither a terminal's
// Ctrl-C nor the daemon's death takes it down. When the new router cannot
// start, the error says why, e.g. "router could not listen on :80: address
// already in use".
func Ensure(ctx context.Context, cfg SpawnConfig) (*Client, error) {
	client, _, err := ensure(ctx, cfg)
	return client, err
}

// ensure is Ensure that also reports whether it started a new router.
func ensure(ctx context.Context, cfg SpawnConfig) (*Client, bool, error) {
	logger := cfg.logger()
	if err := os.MkdirAll(cfg.Router.DataDir, 0o700); err != nil {
		return nil, false, fmt.Errorf("create router data folder: %w", err)
	}
	client := NewClient(SocketPath(cfg.Router.DataDir))
	st, err := statusWithin(ctx, client, statusTimeout)
	want := cfg.Router.settings()
	handoff := false
	switch {
	case err == nil && st.Version == jack.BuildVersion && st.Settings == want:
		logger.Info("adopted the running router", "pid", st.PID, "http", st.HTTPAddr, "generation", st.Generation)
		return client, false, nil
	case err == nil && st.Handoff && st.HTTPAddr == cfg.Router.HTTPAddr:
		logger.Info("replacing the running router; it hands its sockets over", "pid", st.PID,
			"version", st.Version, "want_version", jack.BuildVersion, "settings", st.Settings, "want_settings", want)
		handoff = true
	case err == nil:
		logger.Info("replacing the running router", "pid", st.PID,
			"version", st.Version, "want_version", jack.BuildVersion, "http", st.HTTPAddr, "want_http", cfg.Router.HTTPAddr)
		if err := stopRouter(ctx, client, st.PID); err != nil {
			return nil, false, err
		}
	case jack.ErrorCode(err) != jack.EUNAVAILABLE:
		return nil, false, err
	}
	pid, err := spawn(ctx, cfg, client, handoff)
	if err != nil {
		return nil, false, err
	}
	logger.Info("started the router", "pid", pid, "http", cfg.Router.HTTPAddr)
	return client, true, nil
}

// statusWithin asks for the router's status, giving it timeout to answer.
func statusWithin(ctx context.Context, c *Client, timeout time.Duration) (Status, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	st, err := c.Status(ctx)
	if err != nil && errors.Is(err, context.DeadlineExceeded) && ctx.Err() != nil {
		return st, jack.Errorf(jack.EUNAVAILABLE, "the router on %s did not answer within %s", c.socket, timeout)
	}
	return st, err
}

// stopRouter asks the router to shut down and waits until it has gone,
// killing it if it takes longer than its own shutdown timeout.
func stopRouter(ctx context.Context, c *Client, pid int) error {
	if err := c.Shutdown(ctx); err != nil && jack.ErrorCode(err) != jack.EUNAVAILABLE {
		return fmt.Errorf("stop the running router: %w", err)
	}
	c.Close()
	deadline := time.Now().Add(stopTimeout)
	for {
		_, err := statusWithin(ctx, c, statusTimeout)
		if err != nil && jack.ErrorCode(err) == jack.EUNAVAILABLE && processGone(pid) {
			return nil
		}
		if ctx.Err() != nil {
			return fmt.Errorf("wait for the old router to stop: %w", ctx.Err())
		}
		if time.Now().After(deadline) {
			syscall.Kill(pid, syscall.SIGKILL)
			deadline = time.Now().Add(2 * time.Second)
			if processGone(pid) {
				return nil
			}
		}
		time.Sleep(pollInterval)
	}
}

// processGone reports whether pid has exited (a zombie has).
func processGone(pid int) bool {
	if pid <= 0 {
		return true
	}
	if err := syscall.Kill(pid, 0); errors.Is(err, syscall.ESRCH) {
		return true
	}
	stat, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "stat"))
	if err != nil {
		return false
	}
	// The state follows the command name, which is in parentheses.
	if i := strings.LastIndexByte(string(stat), ')'); i >= 0 && i+2 < len(stat) {
		return stat[i+2] == 'Z'
	}
	return false
}

// spawn starts a router process detached from this one and waits until it
// answers on its socket; with handoff, the new router takes the sockets of
// the one running.
func spawn(ctx context.Context, cfg SpawnConfig, c *Client, handoff bool) (int, error) {
	logPath := filepath.Join(cfg.Router.DataDir, logFile)
	out, err := os.OpenFile(logPath, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		return 0, fmt.Errorf("open router log: %w", err)
	}
	logStart, _ := out.Seek(0, io.SeekEnd)
	router := cfg.Router
	router.Handoff = handoff
	cmd := exec.Command(cfg.Exe, append([]string{"router"}, router.Args()...)...)
	cmd.Stdout, cmd.Stderr = out, out
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	err = cmd.Start()
	out.Close()
	if err != nil {
		return 0, fmt.Errorf("start router %s: %w", cfg.Exe, err)
	}
	// Reap it if it exits while this process lives; otherwise it outlives us.
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()

	deadline := time.NewTimer(startTimeout)
	defer deadline.Stop()
	ticker := time.NewTicker(pollInterval)
	defer ticker.Stop()
	for {
		// Until a hand-off completes, the old router still answers; its
		// connections are not the new one's.
		c.Close()
		if st, err := statusWithin(ctx, c, statusTimeout); err == nil && st.PID == cmd.Process.Pid {
			if st.Version != jack.BuildVersion || st.HTTPAddr != cfg.Router.HTTPAddr {
				return 0, jack.Errorf(jack.EFAILED, "the router started from %s reports version %s on %s, not %s on %s", cfg.Exe, st.Version, st.HTTPAddr, jack.BuildVersion, cfg.Router.HTTPAddr)
			}
			return st.PID, nil
		}
		select {
		case err := <-exited:
			return 0, startFailure(logPath, logStart, err)
		case <-deadline.C:
			cmd.Process.Kill()
			return 0, jack.Errorf(jack.EUNAVAILABLE, "the router did not answer within %s of starting; see %s", startTimeout, logPath)
		case <-ctx.Done():
			cmd.Process.Kill()
			return 0, fmt.Errorf("wait for the router to start: %w", ctx.Err())
		case <-ticker.C:
		}
	}
}

// startFailure explains why a new router exited, from what it wrote to its
// log since start.
func startFailure(logPath string, logStart int64, exitErr error) error {
	output := readFrom(logPath, logStart)
	if i := strings.LastIndex(output, listenFailure); i >= 0 {
		msg := output[i:]
		if j := strings.IndexAny(msg, "\"\n"); j >= 0 {
			msg = msg[:j]
		}
		return jack.Errorf(jack.EUNAVAILABLE, "%s", msg)
	}
	last := lastLine(output)
	if last == "" {
		return jack.Errorf(jack.EUNAVAILABLE, "the router exited as it started (%v); see %s", exitErr, logPath)
	}
	return jack.Errorf(jack.EUNAVAILABLE, "the router exited as it started (%v): %s", exitErr, last)
}

// readFrom returns what a file holds past offset, at most 64 KiB of it.
func readFrom(path string, offset int64) string {
	f, err := os.Open(path)
	if err != nil {
		return ""
	}
	defer f.Close()
	if _, err := f.Seek(offset, io.SeekStart); err != nil {
		return ""
	}
	data, _ := io.ReadAll(io.LimitReader(f, 64<<10))
	return string(data)
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return strings.TrimSpace(lines[len(lines)-1])
}
