package docker

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/network"
	"github.com/docker/docker/client"
	jack "github.com/jack-paas/jack"
)

// The log driver of instances and its limits, so that a chatty app can't
// fill the disk; Jack's log collector keeps what it needs elsewhere. The
// local driver keeps the bytes a container writes as they are (json-file
// replaces what is not UTF-8) and costs the engine less per line. The files
// hold 3 x 64 MiB of records (about 150 MB of lines): what the engine keeps
// while Jack is down. They are not compressed when rotated: gzip would cost
// the engine CPU just when a container writes the most (bench/README.md,
// bench/logs.sh), and a rotated file that keeps its inode is one the
// collector, reading the files directly (logfiles_linux.go), follows
// without looking for its place again.
const (
	logDriver   = "local"
	logMaxSize  = "64m"
	logMaxFiles = "3"
	logCompress = "false"
)

// Start creates and starts the instance's container on the "jack" network
// and returns it with its address; Running is false if it has already
// exited. spec.Command, when given, replaces the image's CMD; the image's
// ENTRYPOINT stays, as with `docker run IMAGE ARGS`. It makes three calls to
// the engine (create, start, inspect) and does not poll.
func (r *Runtime) Start(ctx context.Context, spec *jack.InstanceSpec) (*jack.Container, error) {
	config, host := r.containerConfig(spec)
	mounts, err := r.ensureVolumes(ctx, spec.Owner, spec.App, spec.Env, spec.Volumes)
	if err != nil {
		return nil, err
	}
	host.Mounts = mounts
	return r.run(ctx, spec, config, host)
}

// run creates and starts a container with the given configs, and returns
// it inspected.
func (r *Runtime) run(ctx context.Context, spec *jack.InstanceSpec, config *container.Config, host *container.HostConfig) (*jack.Container, error) {
	id, err := r.createAndStart(ctx, spec, config, host)
	if isNetworkGone(err) {
		// Removed behind Jack's back (docker network prune): make it again.
		r.logger.Warn("Docker network is gone; creating it again", "network", r.network)
		r.forgetNetwork()
		id, err = r.createAndStart(ctx, spec, config, host)
	}
	if err != nil {
		return nil, err
	}
	c, err := r.Inspect(ctx, id)
	if err != nil {
		return nil, fmt.Errorf("inspect started instance %s: %w", spec.Name(), err)
	}
	return c, nil
}

// createAndStart creates and starts the container on the runtime's network
// and returns its ID. A container that fails to start is removed. When the
// network is gone the engine's error is returned as is, for run to retry.
func (r *Runtime) createAndStart(ctx context.Context, spec *jack.InstanceSpec, config *container.Config, host *container.HostConfig) (string, error) {
	resp, err := r.createOnNetwork(ctx, config, host, containerName(spec), "instance "+spec.Name(), spec.Image)
	if err != nil {
		return "", err
	}
	for _, w := range resp.Warnings {
		r.logger.Warn("Docker warns about a new instance", "instance", spec.Name(), "warning", w)
	}
	err = r.cli.ContainerStart(ctx, resp.ID, container.StartOptions{})
	if err == nil {
		return resp.ID, nil
	}
	r.remove(context.WithoutCancel(ctx), resp.ID)
	switch {
	case isNetworkGone(err):
		return "", fmt.Errorf("start instance %s: %w", spec.Name(), err)
	case client.IsErrConnectionFailed(err):
		return "", r.unavailable(err)
	case ctx.Err() != nil:
		// Not the app's fault: the caller's time ran out while the engine
		// was starting it (a busy engine can take seconds).
		return "", jack.Errorf(jack.EFAILED, "instance %s was still starting when the time allowed ran out (%v)", spec.Name(), context.Cause(ctx))
	}
	return "", jack.Errorf(jack.EINVALID, "instance %s did not start (%v); check the process command and the image", spec.Name(), err)
}

// createOnNetwork creates a container named name (what says which one in
// errors) on the runtime's network. A network removed behind Jack's back
// comes back as the engine's error, wrapped, for the caller to retry
// (isNetworkGone); a missing image is ENOTFOUND, a refused configuration
// EINVALID.
func (r *Runtime) createOnNetwork(ctx context.Context, config *container.Config, host *container.HostConfig, name, what, image string) (container.CreateResponse, error) {
	netID, err := r.ensureNetwork(ctx)
	if err != nil {
		return container.CreateResponse{}, err
	}
	onNet := *host
	onNet.NetworkMode = container.NetworkMode(netID)
	endpoints := &network.NetworkingConfig{EndpointsConfig: map[string]*network.EndpointSettings{netID: {}}}
	resp, err := r.cli.ContainerCreate(ctx, config, &onNet, endpoints, nil, name)
	switch {
	case isNetworkGone(err):
		return resp, fmt.Errorf("create %s: %w", what, err)
	case isNotFound(err):
		return resp, jack.Errorf(jack.ENOTFOUND, "image %s is not on the Docker engine; build or load it first", image)
	case cerrdefs.IsInvalidArgument(err):
		return resp, jack.Errorf(jack.EINVALID, "%s can't be created: %v", what, err)
	case err != nil:
		return resp, r.fail(err, "create %s", what)
	}
	return resp, nil
}

// isNetworkGone reports whether the engine refused a container because its
// network does not exist.
func isNetworkGone(err error) bool {
	return err != nil && isNotFound(err) && strings.Contains(err.Error(), "network")
}

// containerConfig returns the container and host configs of an instance.
func (r *Runtime) containerConfig(spec *jack.InstanceSpec) (*container.Config, *container.HostConfig) {
	config := &container.Config{
		Image:      spec.Image,
		Env:        spec.Environ,
		Labels:     r.labels(spec),
		StopSignal: "SIGTERM",
	}
	if spec.StopTimeout > 0 {
		// Jack's Stop passes its own timeout; this one is for `docker stop`
		// by hand and for the engine's own shutdown.
		config.StopTimeout = seconds(spec.StopTimeout)
	}
	if len(spec.Command) > 0 {
		config.Cmd = spec.Command
	}
	if len(spec.Entrypoint) > 0 {
		config.Entrypoint = spec.Entrypoint
	}
	host := hostConfig(spec.Memory, spec.CPUs)
	host.RestartPolicy = container.RestartPolicy{Name: container.RestartPolicyDisabled}
	return config, host
}

// hostConfig returns what the host config of every container Jack runs
// shares: bounded log files in the driver the collector reads, no init
// process, and the resource limits.
func hostConfig(memory int64, cpus float64) *container.HostConfig {
	noInit := false
	host := &container.HostConfig{
		LogConfig: container.LogConfig{
			Type:   logDriver,
			Config: map[string]string{"max-size": logMaxSize, "max-file": logMaxFiles, "compress": logCompress},
		},
		Init:      &noInit,
		Resources: container.Resources{Memory: memory, NanoCPUs: int64(cpus * 1e9)},
	}
	if memory > 0 {
		host.MemorySwap = memory // a limit, not a hint: no swapping past it
	}
	return host
}

// baseLabels returns the labels every container Jack runs carries, with the
// runtime's extra labels; owner "" means the runtime's.
func (r *Runtime) baseLabels(owner, app, env, process string, release int, version string, deployment int64) map[string]string {
	if owner == "" {
		owner = r.owner
	}
	labels := map[string]string{
		jack.LabelManaged:    "true",
		jack.LabelOwner:      owner,
		jack.LabelApp:        app,
		jack.LabelEnv:        env,
		jack.LabelProcess:    process,
		jack.LabelRelease:    strconv.Itoa(release),
		jack.LabelVersion:    version,
		jack.LabelDeployment: strconv.FormatInt(deployment, 10),
	}
	for k, v := range r.ExtraLabels {
		labels[k] = v
	}
	return labels
}

// labelStopTimeout keeps an instance's stop timeout exactly (the engine
// keeps whole seconds), so that List can report it without an inspect.
const labelStopTimeout = "dev.jack.stop-timeout"

// labels returns the labels of an instance's container. The owner is the
// spec's, else the runtime's.
func (r *Runtime) labels(spec *jack.InstanceSpec) map[string]string {
	labels := r.baseLabels(spec.Owner, spec.App, spec.Env, spec.Process, spec.Release, spec.Version, spec.Deployment)
	labels[jack.LabelSlot] = strconv.Itoa(spec.Slot)
	labels[jack.LabelSpec] = spec.Spec
	labels[jack.LabelPort] = strconv.Itoa(spec.Port)
	labels[labelStopTimeout] = spec.StopTimeout.String()
	labels[jack.LabelKind] = jack.KindInstance
	return labels
}

// containerName returns a name that tells a person running `docker ps` what
// the container is: jack-APP-ENV-PROCESS-SLOT-rRELEASE-RANDOM.
func containerName(spec *jack.InstanceSpec) string {
	suffix := make([]byte, 3)
	rand.Read(suffix)
	return fmt.Sprintf("jack-%s-%s-%s-%d-r%d-%s", nameSafe(spec.App), nameSafe(spec.Env),
		nameSafe(spec.Process), spec.Slot, spec.Release, hex.EncodeToString(suffix))
}

// nameSafe replaces what a container name can't hold with dashes.
func nameSafe(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' || r == '.' || r == '-' {
			return r
		}
		return '-'
	}, s)
}

// Stop sends the container SIGTERM, kills it after timeout (rounded up to
// whole seconds) and removes it. A container that is already gone is not an
// error.
func (r *Runtime) Stop(ctx context.Context, id string, timeout time.Duration) error {
	err := r.cli.ContainerStop(ctx, id, container.StopOptions{Timeout: seconds(timeout)})
	if isNotFound(err) {
		return nil
	} else if err != nil {
		return r.fail(err, "stop container %.12s", id)
	}
	r.beforeRemove(ctx, id)
	return r.remove(ctx, id)
}

// beforeRemove lets the log collector read a stopped container's last
// lines (BeforeRemove), its file streams having been told it stopped.
func (r *Runtime) beforeRemove(ctx context.Context, id string) {
	r.logFiles.wakeContainer(id)
	if r.BeforeRemove != nil {
		r.BeforeRemove(ctx, id)
	}
}

// seconds returns d in whole seconds, rounded up, never negative (the
// engine reads -1 as "wait forever").
func seconds(d time.Duration) *int {
	s := max(0, int(math.Ceil(d.Seconds())))
	return &s
}

// remove force-removes a container, keeping its volumes. Gone already, or
// being removed by someone else, counts as removed.
func (r *Runtime) remove(ctx context.Context, id string) error {
	err := r.cli.ContainerRemove(ctx, id, container.RemoveOptions{Force: true})
	if err == nil || isNotFound(err) || cerrdefs.IsConflict(err) {
		return nil
	}
	r.logger.Warn("could not remove container", "container", id, "err", err)
	return r.fail(err, "remove container %.12s", id)
}
