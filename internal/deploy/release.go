package deploy

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"sync"

	jack "github.com/jack-paas/jack"
)

// Bounds of what a release command's output adds to its deployment: each
// line is a step (so `jack deploy` prints it as it comes), up to
// maxReleaseSteps; the last releaseTail lines are the failure's output.
const (
	maxReleaseSteps = 500
	releaseTail     = 20
	maxLineBytes    = 4096
)

// releaseError is a release command that failed: its reason and its last
// lines of output.
type releaseError struct {
	reason string
	output []string
}

func (e *releaseError) Error() string { return e.reason }

// shouldRelease reports whether the deployment runs its version's release
// command: every deploy does, other deployments (rollback, config, scale,
// restart) only when they change the version that serves; the release
// options decide otherwise.
func (r *rollout) shouldRelease(ctx context.Context) (bool, error) {
	if len(r.v.Manifest.Release) == 0 || r.opts.release.Skip {
		return false, nil
	}
	if r.opts.release.Force || r.d.Kind == jack.KindDeploy || r.env.Release == 0 {
		return true, nil
	}
	cur, err := r.o.store.FindRelease(ctx, r.env.ID, r.env.Release)
	if err != nil {
		return false, fmt.Errorf("find release %d: %w", r.env.Release, err)
	}
	return cur.VersionID != r.v.ID, nil
}

// release runs the release command of the version in a one-off container
// of the new release, with its config and volumes, streaming each line of
// output as a step. A non-zero exit, a command that can't start, or the
// release timeout is a *releaseError.
func (r *rollout) release(ctx context.Context) error {
	runner, ok := r.o.runtime.(jack.OneOffRuntime)
	if !ok {
		return jack.Errorf(jack.EINVALID, "this runtime can't run a release command")
	}
	command := r.v.Manifest.Release
	timeout := r.v.Manifest.Deploy.ReleaseTimeout.D()
	if timeout <= 0 {
		timeout = jack.DefaultReleaseTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	process, proc := resourcesOf(r.v, "")
	spec := r.o.oneOffSpec(r.env, r.rel, r.v, process, proc, jack.KindRelease, "release", command)
	spec.Deployment = r.d.ID
	r.p.step("Running release command: %s", strings.Join(command, " "))
	out := &stepWriter{p: r.p}
	res, err := runner.RunOneOff(ctx, spec, jack.OneOffIO{Stdout: out, Stderr: out})
	out.flush()
	switch {
	case err != nil && jack.ErrorCode(err) == jack.EINVALID:
		return &releaseError{reason: jack.ErrorMessage(err), output: out.tail()}
	case err != nil:
		return fmt.Errorf("run release command: %w", err)
	case res.Stopped && r.o.ctx.Err() == nil && ctx.Err() == context.DeadlineExceeded:
		return &releaseError{reason: fmt.Sprintf("release command timed out after %s (deploy.release_timeout)", timeout), output: out.tail()}
	case res.Stopped:
		return fmt.Errorf("release command stopped: %w", context.Cause(ctx))
	case res.ExitCode != 0:
		return &releaseError{reason: fmt.Sprintf("release command exited with code %d", res.ExitCode), output: out.tail()}
	}
	r.p.step("Release command succeeded")
	return nil
}

// stepWriter turns output into deployment steps, a line at a time, and
// keeps the last lines.
type stepWriter struct {
	p     *progress
	mu    sync.Mutex
	buf   []byte
	lines []string
	steps int
}

func (w *stepWriter) Write(b []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf = append(w.buf, b...)
	for {
		i := bytes.IndexByte(w.buf, '\n')
		if i < 0 {
			if len(w.buf) > maxLineBytes {
				w.line(string(w.buf[:maxLineBytes]))
				w.buf = w.buf[maxLineBytes:]
				continue
			}
			return len(b), nil
		}
		w.line(string(w.buf[:i]))
		w.buf = w.buf[i+1:]
	}
}

// line records one line. The caller holds w.mu.
func (w *stepWriter) line(s string) {
	s = strings.TrimRight(s, "\r")
	w.lines = append(w.lines, s)
	if len(w.lines) > releaseTail {
		w.lines = w.lines[len(w.lines)-releaseTail:]
	}
	w.steps++
	switch {
	case w.steps <= maxReleaseSteps:
		w.p.step("release | %s", s)
	case w.steps == maxReleaseSteps+1:
		w.p.step("release | … (more output not shown here)")
	}
}

// flush records a last line that had no newline.
func (w *stepWriter) flush() {
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.buf) > 0 {
		w.line(string(w.buf))
		w.buf = nil
	}
}

func (w *stepWriter) tail() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]string(nil), w.lines...)
}
