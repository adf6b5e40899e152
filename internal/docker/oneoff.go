package docker

import (
	"archive/tar"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/client"
	"github.com/docker/docker/pkg/stdcopy"
	jack "github.com/jack-paas/jack"
)

var _ jack.OneOffRuntime = (*Runtime)(nil)

// outputGrace bounds how long RunOneOff waits, once the container is gone,
// for the last of its output to arrive.
const outputGrace = 2 * time.Second

// RunOneOff runs a one-off container as `docker run --rm` does: create,
// attach, start, wait for its exit, remove. Jack removes it itself rather
// than with the engine's AutoRemove, so that the log collector reads its
// last lines first (BeforeRemove); one left behind by a daemon that died is
// removed when the daemon starts again. Its streams go to streams; with
// spec.TTY it gets a terminal, whose size follows streams.Resize.
func (r *Runtime) RunOneOff(ctx context.Context, spec *jack.OneOffSpec, streams jack.OneOffIO) (jack.OneOffResult, error) {
	// The engine calls outlive ctx: ending ctx stops the container, it does
	// not abandon it.
	engine := context.WithoutCancel(ctx)
	mounts, err := r.ensureVolumes(engine, spec.Owner, spec.App, spec.Env, spec.Volumes)
	if err != nil {
		return jack.OneOffResult{}, err
	}
	config, host := r.oneOffConfig(spec)
	host.Mounts = mounts
	id, err := r.createOneOff(engine, spec, config, host)
	if err != nil {
		return jack.OneOffResult{}, err
	}
	attached, err := r.cli.ContainerAttach(engine, id, container.AttachOptions{Stream: true, Stdin: spec.Stdin, Stdout: true, Stderr: true})
	if err != nil {
		r.remove(engine, id)
		return jack.OneOffResult{}, r.fail(err, "attach to %s", spec.Name)
	}
	defer attached.Close()
	waitC, waitErr := r.cli.ContainerWait(engine, id, container.WaitConditionNextExit)
	if err := r.cli.ContainerStart(engine, id, container.StartOptions{}); err != nil {
		r.remove(engine, id)
		if client.IsErrConnectionFailed(err) {
			return jack.OneOffResult{}, r.unavailable(err)
		}
		return jack.OneOffResult{}, startError(spec, err)
	}
	if streams.Started != nil {
		streams.Started(id)
	}
	output := make(chan struct{})
	go func() {
		defer close(output)
		stdout, stderr := orDiscard(streams.Stdout), orDiscard(streams.Stderr)
		if spec.TTY {
			io.Copy(stdout, attached.Reader)
		} else {
			stdcopy.StdCopy(stdout, stderr, attached.Reader)
		}
	}()
	stopResize := make(chan struct{})
	defer close(stopResize)
	if spec.TTY && streams.Resize != nil {
		// The terminal gets the client's size before any input reaches the
		// command, so a program that asks for it at once sees it.
		r.initialResize(engine, id, streams.Resize)
		go r.followResize(engine, id, streams.Resize, stopResize)
	}
	if spec.Stdin && streams.Stdin != nil {
		go func() {
			io.Copy(attached.Conn, streams.Stdin)
			attached.CloseWrite()
		}()
	}

	res, err := r.waitOneOff(ctx, engine, id, spec, waitC, waitErr)
	if err != nil {
		r.remove(engine, id)
		return res, err
	}
	select {
	case <-output:
	case <-time.After(outputGrace):
	}
	r.beforeRemove(engine, id)
	r.remove(engine, id)
	return res, nil
}

// waitOneOff waits for the container's exit and returns its exit code;
// when ctx ends first it stops the container and goes on waiting.
func (r *Runtime) waitOneOff(ctx, engine context.Context, id string, spec *jack.OneOffSpec, waitC <-chan container.WaitResponse, waitErr <-chan error) (jack.OneOffResult, error) {
	var res jack.OneOffResult
	done := ctx.Done()
	for {
		select {
		case <-done:
			done = nil // stop once, then wait for the exit
			res.Stopped = true
			if err := r.cli.ContainerStop(engine, id, container.StopOptions{Timeout: seconds(spec.StopTimeout)}); err != nil && !isNotFound(err) {
				r.logger.Warn("stop one-off container", "container", jack.ShortID(id), "err", err)
			}
		case w := <-waitC:
			if w.Error != nil && w.Error.Message != "" {
				r.logger.Warn("one-off container ended with an engine error", "container", jack.ShortID(id), "err", w.Error.Message)
			}
			res.ExitCode = int(w.StatusCode)
			return res, nil
		case err := <-waitErr:
			if isNotFound(err) {
				// Removed before the wait began: it ran and is gone, and its
				// exit code with it.
				res.ExitCode = -1
				return res, nil
			}
			return res, r.fail(err, "wait for %s", spec.Name)
		}
	}
}

// firstSizeWait is how long a terminal run waits for the client's first
// window size before its input flows.
const firstSizeWait = 200 * time.Millisecond

// initialResize applies the client's first window size, if it comes soon.
func (r *Runtime) initialResize(ctx context.Context, id string, sizes <-chan jack.TermSize) {
	select {
	case size, ok := <-sizes:
		if ok && size.Width > 0 && size.Height > 0 {
			err := r.cli.ContainerResize(ctx, id, container.ResizeOptions{Width: size.Width, Height: size.Height})
			if err != nil && !isNotFound(err) {
				r.logger.Debug("resize terminal", "container", jack.ShortID(id), "err", err)
			}
		}
	case <-time.After(firstSizeWait):
	}
}

// followResize passes terminal sizes to the container until stop closes.
func (r *Runtime) followResize(ctx context.Context, id string, sizes <-chan jack.TermSize, stop <-chan struct{}) {
	for {
		select {
		case <-stop:
			return
		case size, ok := <-sizes:
			if !ok {
				return
			}
			if size.Width == 0 || size.Height == 0 {
				continue
			}
			err := r.cli.ContainerResize(ctx, id, container.ResizeOptions{Width: size.Width, Height: size.Height})
			if err != nil && !isNotFound(err) {
				r.logger.Debug("resize terminal", "container", jack.ShortID(id), "err", err)
			}
		}
	}
}

// oneOffConfig returns the configs of a one-off container.
func (r *Runtime) oneOffConfig(spec *jack.OneOffSpec) (*container.Config, *container.HostConfig) {
	config := &container.Config{
		Image:        spec.Image,
		Env:          spec.Environ,
		Labels:       r.oneOffLabels(spec),
		StopSignal:   "SIGTERM",
		AttachStdout: true,
		AttachStderr: true,
		AttachStdin:  spec.Stdin,
		OpenStdin:    spec.Stdin,
		StdinOnce:    spec.Stdin,
		Tty:          spec.TTY,
	}
	if len(spec.Command) > 0 {
		config.Cmd = spec.Command
	}
	if len(spec.Entrypoint) > 0 {
		config.Entrypoint = spec.Entrypoint
	}
	host := hostConfig(spec.Memory, spec.CPUs)
	return config, host
}

// oneOffLabels returns the labels of a one-off container: Jack's, with the
// kind, and its name as the process.
func (r *Runtime) oneOffLabels(spec *jack.OneOffSpec) map[string]string {
	labels := r.baseLabels(spec.Owner, spec.App, spec.Env, spec.Name, spec.Release, spec.Version, spec.Deployment)
	labels[jack.LabelKind] = spec.Kind
	return labels
}

// createOneOff creates the container on the instances' network, making the
// network again if it was removed behind Jack's back.
func (r *Runtime) createOneOff(ctx context.Context, spec *jack.OneOffSpec, config *container.Config, host *container.HostConfig) (string, error) {
	for attempt := 0; ; attempt++ {
		resp, err := r.createOnNetwork(ctx, config, host, oneOffName(spec), spec.Name+" container", spec.Image)
		if isNetworkGone(err) && attempt == 0 {
			r.forgetNetwork()
			continue
		}
		return resp.ID, err
	}
}

// startError explains why a one-off container did not start; a command
// missing from the image is the user's to fix.
func startError(spec *jack.OneOffSpec, err error) error {
	msg := err.Error()
	for _, missing := range []string{"executable file not found", "no such file or directory"} {
		if strings.Contains(msg, missing) {
			return jack.Errorf(jack.EINVALID, "%s command %s is not found in the image; check its path, or that the image has it", spec.Name, quoteCommand(spec))
		}
	}
	if strings.Contains(msg, "permission denied") {
		return jack.Errorf(jack.EINVALID, "%s command %s can't be run: permission denied in the image", spec.Name, quoteCommand(spec))
	}
	return jack.Errorf(jack.EINVALID, "%s did not start (%v); check the command and the image", spec.Name, err)
}

// quoteCommand returns the first word of the command that was run.
func quoteCommand(spec *jack.OneOffSpec) string {
	words := append(append([]string(nil), spec.Entrypoint...), spec.Command...)
	if len(words) == 0 {
		return "(the image's own)"
	}
	return fmt.Sprintf("%q", words[0])
}

// oneOffName returns jack-APP-ENV-KIND-RANDOM.
func oneOffName(spec *jack.OneOffSpec) string {
	return containerName(&jack.InstanceSpec{App: spec.App, Env: spec.Env, Process: spec.Kind, Release: spec.Release})
}

// ListOneOffs returns the one-off containers of app/env ("" for all).
func (r *Runtime) ListOneOffs(ctx context.Context, app, env string) ([]*jack.Container, error) {
	summaries, err := r.listManaged(ctx, app, env)
	if err != nil {
		return nil, err
	}
	var out []*jack.Container
	for _, s := range summaries {
		if isInstance(s.Labels) {
			continue
		}
		c := fromLabels(s.ID, s.Labels)
		c.Running = s.State == container.StateRunning
		c.StartedAt = time.Unix(s.Created, 0).UTC()
		out = append(out, c)
	}
	return out, nil
}

// maxImageFile bounds what ReadImageFile reads: manifests are small.
const maxImageFile = 1 << 20

// ReadImageFile copies a file out of an image: it creates a container of
// the image without starting it, copies the file, and removes the
// container. ENOTFOUND when the image has no such file.
func (r *Runtime) ReadImageFile(ctx context.Context, image, path string) ([]byte, error) {
	labels := map[string]string{jack.LabelManaged: "true", jack.LabelOwner: r.owner, jack.LabelKind: "read"}
	for k, v := range r.ExtraLabels {
		labels[k] = v
	}
	resp, err := r.cli.ContainerCreate(ctx, &container.Config{
		Image: image, Labels: labels, Cmd: []string{"jack-read-file"}, Entrypoint: []string{""},
	}, &container.HostConfig{NetworkMode: "none"}, nil, nil, "")
	if isNotFound(err) {
		return nil, jack.Errorf(jack.ENOTFOUND, "image %s is not on the Docker engine; build or load it first", image)
	} else if err != nil {
		return nil, r.fail(err, "create container to read %s of image %s", path, image)
	}
	defer r.remove(context.WithoutCancel(ctx), resp.ID)
	rc, _, err := r.cli.CopyFromContainer(ctx, resp.ID, path)
	if isNotFound(err) {
		return nil, jack.Errorf(jack.ENOTFOUND, "image %s has no %s", image, path)
	} else if err != nil {
		return nil, r.fail(err, "copy %s out of image %s", path, image)
	}
	defer rc.Close()
	tr := tar.NewReader(rc)
	hdr, err := tr.Next()
	if err != nil {
		return nil, fmt.Errorf("read %s of image %s: %w", path, image, err)
	}
	if hdr.Typeflag != tar.TypeReg {
		return nil, jack.Errorf(jack.EINVALID, "%s in image %s is not a regular file", path, image)
	}
	if hdr.Size > maxImageFile {
		return nil, jack.Errorf(jack.EINVALID, "%s in image %s is %d bytes; a manifest is at most 1 MiB", path, image, hdr.Size)
	}
	data, err := io.ReadAll(tr)
	if err != nil && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("read %s of image %s: %w", path, image, err)
	}
	return data, nil
}

func orDiscard(w io.Writer) io.Writer {
	if w == nil {
		return io.Discard
	}
	return w
}
