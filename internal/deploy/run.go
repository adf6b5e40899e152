package deploy

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	jack "github.com/jack-paas/jack"
)

var _ jack.Runner = (*Orchestrator)(nil)

// runOutputLines is how many last lines of a run's output are kept.
const runOutputLines = 200

// oneOffRuntime returns the runtime's one-off side, or an error saying the
// runtime has none.
func (o *Orchestrator) oneOffRuntime() (jack.OneOffRuntime, error) {
	r, ok := o.runtime.(jack.OneOffRuntime)
	if !ok {
		return nil, jack.Errorf(jack.EUNAVAILABLE, "this runtime can't run one-off containers")
	}
	return r, nil
}

// Run runs a one-off command of the environment's current release, with
// its config, volumes and network, and the resources of req.Process. It
// blocks until the command exits; ending ctx (Ctrl-C, the client gone)
// stops the container. The run is stored with its exit code.
func (o *Orchestrator) Run(ctx context.Context, req jack.RunRequest, streams jack.OneOffIO) (*jack.Run, error) {
	if len(req.Command) == 0 {
		return nil, jack.Errorf(jack.EINVALID, "no command to run; give one after --, such as jack run APP/ENV -- python3 manage.py shell")
	}
	if req.TTY && !req.Stdin {
		return nil, jack.Errorf(jack.EINVALID, "a terminal (-t) needs input (-i); give -it")
	}
	runtime, err := o.oneOffRuntime()
	if err != nil {
		return nil, err
	}
	env, rel, v, err := o.serving(ctx, req.App, req.Env)
	if err != nil {
		return nil, err
	}
	if req.Process != "" && v.Manifest.Processes[req.Process] == nil {
		return nil, jack.Errorf(jack.EINVALID, "process %s is not in %s's manifest (%s)", req.Process, v.Label, strings.Join(v.Manifest.ProcessNames(), ", "))
	}
	process, proc := resourcesOf(v, req.Process)
	spec := o.oneOffSpec(env, rel, v, process, proc, jack.KindRun, "run", req.Command)
	spec.Stdin, spec.TTY = req.Stdin, req.TTY
	run := &jack.Run{
		EnvID: env.ID, Kind: jack.KindRun, Command: req.Command, Process: process, Release: rel.Number,
		TTY: req.TTY, State: jack.RunRunning, CreatedAt: o.now(),
	}
	if err := o.store.CreateRun(ctx, run); err != nil {
		return nil, fmt.Errorf("store run: %w", err)
	}
	o.event(env.ID, "run", "Run %d started: %s (release %d)", run.ID, strings.Join(req.Command, " "), rel.Number)
	tail := &tailWriter{max: runOutputLines}
	if !req.TTY { // a terminal session's output is not kept: it echoes what is typed
		streams.Stdout = teeWriter(streams.Stdout, tail)
		streams.Stderr = teeWriter(streams.Stderr, tail)
	}
	res, err := runtime.RunOneOff(ctx, spec, streams)
	o.endRun(run, res, err, tail, "")
	if err != nil {
		return run, err
	}
	return run, nil
}

// endRun records how a run ended, with an event.
func (o *Orchestrator) endRun(run *jack.Run, res jack.OneOffResult, err error, tail *tailWriter, stoppedReason string) {
	now := o.now()
	run.FinishedAt = &now
	run.Output = tail.lines()
	switch {
	case err != nil:
		run.State, run.Reason = jack.RunFailed, jack.ErrorMessage(asUserError(err))
	case res.Stopped:
		run.State, run.ExitCode = jack.RunFailed, res.ExitCode
		run.Reason = stoppedReason
		if run.Reason == "" {
			run.Reason = "stopped"
		}
	default:
		run.State, run.ExitCode = jack.RunExited, res.ExitCode
	}
	if uerr := o.store.UpdateRun(context.WithoutCancel(o.ctx), run); uerr != nil && jack.ErrorCode(uerr) != jack.ENOTFOUND {
		o.logger.Error("save run", "run", run.ID, "err", uerr)
	}
	what := "Run " + fmt.Sprint(run.ID)
	if run.Kind == jack.KindCron {
		what = "Cron job " + run.Job + " (run " + fmt.Sprint(run.ID) + ")"
	}
	switch {
	case run.State == jack.RunExited && run.ExitCode == 0:
		o.event(run.EnvID, run.Kind, "%s exited with code 0 in %s", what, now.Sub(run.CreatedAt).Round(time.Millisecond))
	case run.State == jack.RunExited:
		o.event(run.EnvID, run.Kind, "%s failed: exited with code %d", what, run.ExitCode)
	default:
		o.event(run.EnvID, run.Kind, "%s failed: %s", what, run.Reason)
	}
}

// serving returns an environment with the release that serves and its
// version; EINVALID before its first deploy.
func (o *Orchestrator) serving(ctx context.Context, app, envName string) (*jack.Environment, *jack.Release, *jack.Version, error) {
	env, err := o.store.FindEnv(ctx, app, envName)
	if err != nil {
		return nil, nil, nil, err
	}
	if env.Release == 0 {
		return nil, nil, nil, jack.Errorf(jack.EINVALID, "%s has never been deployed; deploy it first (jack deploy %s --image REF)", env.Ref(), env.Ref())
	}
	rel, v, err := o.current(ctx, env)
	if err != nil {
		return nil, nil, nil, err
	}
	return env, rel, v, nil
}

// DeleteVolumes removes an environment's volumes once it is deleted.
func (o *Orchestrator) DeleteVolumes(ctx context.Context, app, envName string) ([]string, error) {
	runtime, err := o.oneOffRuntime()
	if err != nil {
		return nil, err
	}
	if _, err := o.store.FindEnv(ctx, app, envName); err == nil {
		return nil, jack.Errorf(jack.ECONFLICT, "%s/%s still exists; its volumes go when it is deleted", app, envName)
	}
	return runtime.RemoveVolumes(ctx, app, envName)
}

// stopOneOffs stops the one-off containers of app/env ("" for all): at
// Open, those a previous run left (their streams are gone), and when an
// environment is deleted.
func (o *Orchestrator) stopOneOffs(ctx context.Context, app, env string) {
	runtime, ok := o.runtime.(jack.OneOffRuntime)
	if !ok {
		return
	}
	cs, err := runtime.ListOneOffs(ctx, app, env)
	if err != nil {
		o.logger.Warn("list one-off containers", "err", err)
		return
	}
	var wg sync.WaitGroup
	for _, c := range cs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			o.logger.Info("stopping one-off container", "app", c.App, "env", c.Env, "what", c.Process, "container", jack.ShortID(c.ID))
			if err := o.runtime.Stop(ctx, c.ID, time.Second); err != nil {
				o.logger.Warn("stop one-off container", "container", jack.ShortID(c.ID), "err", err)
			}
		}()
	}
	wg.Wait()
}

// tailWriter keeps the last max lines written to it.
type tailWriter struct {
	mu      sync.Mutex
	max     int
	partial []byte
	kept    []string
}

func (t *tailWriter) Write(b []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.partial = append(t.partial, b...)
	for {
		i := bytes.IndexByte(t.partial, '\n')
		if i < 0 {
			if len(t.partial) > maxLineBytes {
				t.add(string(t.partial[:maxLineBytes]))
				t.partial = t.partial[maxLineBytes:]
				continue
			}
			return len(b), nil
		}
		t.add(string(t.partial[:i]))
		t.partial = t.partial[i+1:]
	}
}

func (t *tailWriter) add(line string) {
	t.kept = append(t.kept, strings.TrimRight(line, "\r"))
	if len(t.kept) > t.max {
		t.kept = t.kept[len(t.kept)-t.max:]
	}
}

// lines returns the lines kept, with a last one that had no newline.
func (t *tailWriter) lines() []string {
	t.mu.Lock()
	defer t.mu.Unlock()
	out := append([]string(nil), t.kept...)
	if len(t.partial) > 0 {
		out = append(out, string(t.partial))
	}
	if len(out) > t.max {
		out = out[len(out)-t.max:]
	}
	return out
}

// teeWriter writes to w (when not nil) and to the tail; a failing w (the
// client gone) does not stop the tail.
func teeWriter(w io.Writer, tail *tailWriter) io.Writer {
	if w == nil {
		return tail
	}
	return writerFunc(func(b []byte) (int, error) {
		tail.Write(b)
		w.Write(b)
		return len(b), nil
	})
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(b []byte) (int, error) { return f(b) }
