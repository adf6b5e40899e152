// Package docker runs Jack's instances on one Docker engine: it implements
// jack.Runtime with the moby client. Every container it creates carries the
// dev.jack.* labels, which is how Jack finds and adopts its instances after a
// restart, and joins the user-defined bridge network "jack", whose addresses
// the router and the health checker on the host reach directly.
package docker

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"strings"
	"sync"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/docker/docker/client"
	jack "github.com/jack-paas/jack"
)

// NetworkName is the bridge network every instance joins.
const NetworkName = "jack"

var _ jack.Runtime = (*Runtime)(nil)

// Runtime is a jack.Runtime on one Docker engine. It is safe for concurrent
// use.
type Runtime struct {
	// ExtraLabels are put on every container the runtime starts and required
	// of every container it lists or watches, so that runtimes with different
	// extra labels share an engine without seeing each other's instances.
	// Tests use them to mark and isolate what they create. Set before first
	// use; nil in production.
	ExtraLabels map[string]string
	// StatsSource chooses where Stats reads from: StatsAuto (""),
	// StatsCgroup or StatsEngine; CgroupRoot is where the cgroup
	// hierarchy is mounted ("" for /sys/fs/cgroup). Set before first use.
	StatsSource string
	CgroupRoot  string
	stats       statsState

	// BeforeRemove, when set, is called by Stop once the instance has
	// stopped and before it is removed, so that the log collector can read
	// its last lines while the engine still has them. Set before first use.
	BeforeRemove func(ctx context.Context, id string)

	cli     *client.Client
	owner   string // the installation whose instances this runtime sees
	logger  *slog.Logger
	network string // the network's name; tests use their own

	// networkLabels are added to the network's when the runtime creates it;
	// tests mark their own networks with them.
	networkLabels map[string]string

	netMu sync.Mutex
	netID string // the network's ID once known

	logFiles logFiles // reading the local driver's files (OpenLogs)
}

// New connects to the Docker engine at host, or to the one DOCKER_HOST or
// the local socket names when host is "". owner is the installation's ID:
// the runtime labels its instances with it and lists and watches only the
// instances that carry it, so two Jacks can share an engine ("" sees every
// Jack's). New does not contact the engine: an engine that is down makes
// each method fail with EUNAVAILABLE until it is up.
func New(host, owner string, logger *slog.Logger) (*Runtime, error) {
	opts := []client.Opt{client.FromEnv, client.WithAPIVersionNegotiation()}
	if host != "" {
		opts = append(opts, client.WithHost(host))
	}
	cli, err := client.NewClientWithOpts(opts...)
	if err != nil {
		return nil, jack.Errorf(jack.EINVALID, "Docker host %q is not usable (%v); give one like unix:///var/run/docker.sock or tcp://host:2375", host, err)
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	mode, err := logReaderMode(os.Getenv(logReaderEnv))
	if err != nil {
		cli.Close()
		return nil, err
	}
	r := &Runtime{cli: cli, owner: owner, logger: logger, network: NetworkName}
	r.logFiles.mode = mode
	return r, nil
}

// Close releases the connection to the engine.
func (r *Runtime) Close() error {
	r.logFiles.close()
	return r.cli.Close()
}

// Client returns the moby client the runtime uses, for parts of Jack that
// need more of the engine than jack.Runtime offers.
func (r *Runtime) Client() *client.Client { return r.cli }

// Host returns the address of the engine, e.g. unix:///var/run/docker.sock.
func (r *Runtime) Host() string { return r.cli.DaemonHost() }

// fail turns an engine error into what Jack's callers expect: EUNAVAILABLE
// when the engine does not answer, else err wrapped with what was being done.
func (r *Runtime) fail(err error, format string, args ...any) error {
	if client.IsErrConnectionFailed(err) {
		return r.unavailable(err)
	}
	return fmt.Errorf(format+": %w", append(args, err)...)
}

// unavailable returns the EUNAVAILABLE error of an engine that does not
// answer, with the cause in a few words.
func (r *Runtime) unavailable(err error) error {
	host := r.cli.DaemonHost()
	cause := err.Error()
	if path, ok := strings.CutPrefix(host, "unix://"); ok && isMissing(path) {
		cause = "no such socket"
	} else if strings.HasPrefix(cause, "Cannot connect to the Docker daemon") {
		cause = "cannot connect" // the client's message repeats the host
	}
	return jack.Errorf(jack.EUNAVAILABLE, "the Docker engine at %s does not answer (%s); start dockerd", host, cause)
}

func isMissing(path string) bool {
	_, err := os.Stat(path)
	return errors.Is(err, fs.ErrNotExist)
}

// isNotFound reports whether the engine said the object does not exist.
func isNotFound(err error) bool { return cerrdefs.IsNotFound(err) }
