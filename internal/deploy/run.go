package deploy

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	jack "github.com/jack-paas/jack"
)

// OneOffs runs one-off commands of environments (`jack run`) and removes
// the volumes of deleted ones: the one-off side of jack.Runner.
type OneOffs struct {
	*shared
}

// runOutputLines is how many last lines of a run's output are kept.
const runOutputLines = 200

// Run runs a one-off command of the environment's current release, with
// its config, volumes and network, and the resources of req.Process. It
// blocks until the command exits; ending ctx (Ctrl-C, the client gone)
// stops the container. The run is stored with its exit code.
func (r *OneOffs) Run(ctx context.Context, req jack.RunRequest, streams jack.OneOffIO) (*jack.Run, error) {
	if len(req.Command) == 0 {
		return nil, jack.Errorf(jack.EINVALID, "no command to run; give one after --, such as jack run APP/ENV -- python3 manage.py shell")
	}
	if req.TTY && !req.Stdin {
		return nil, jack.Errorf(jack.EINVALID, "a terminal (-t) needs input (-i); give -it")
	}
	runtime, err := r.oneOffRuntime()
	if err != nil {
		return nil, err
	}
	env, rel, v, err := r.serving(ctx, req.App, req.Env)
	if err != nil {
		return nil, err
	}
	if req.Process != "" && v.Manifest.Processes[req.Process] == nil {
		return nil, jack.Errorf(jack.EINVALID, "process %s is not in %s's manifest (%s)", req.Process, v.Label, strings.Join(v.Manifest.ProcessNames(), ", "))
	}
	process, proc := resourcesOf(v, req.Process)
	spec := r.oneOffSpec(env, rel, v, process, proc, jack.KindRun, "run", req.Command)
	spec.Stdin, spec.TTY = req.Stdin, req.TTY
	run := &jack.Run{
		EnvID: env.ID, Kind: jack.KindRun, Command: req.Command, Process: process, Release: rel.Number,
		TTY: req.TTY, State: jack.RunRunning, CreatedAt: r.now(),
	}
	if err := r.store.CreateRun(ctx, run); err != nil {
		return nil, fmt.Errorf("store run: %w", err)
	}
	r.event(env.ID, "run", "Run %d started: %s (release %d)", run.ID, strings.Join(req.Command, " "), rel.Number)
	tail := &tailWriter{max: runOutputLines}
	if !req.TTY { // a terminal session's output is not kept: it echoes what is typed
		streams.Stdout = teeWriter(streams.Stdout, tail)
		streams.Stderr = teeWriter(streams.Stderr, tail)
	}
	res, err := runtime.RunOneOff(ctx, spec, streams)
	r.endRun(run, res, err, tail, "")
	if err != nil {
		return run, err
	}
	return run, nil
}

// endRun records how a run ended, with an event.
func (s *shared) endRun(run *jack.Run, res jack.OneOffResult, err error, tail *tailWriter, stoppedReason string) {
	now := s.now()
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
	if uerr := s.store.UpdateRun(context.WithoutCancel(s.ctx), run); uerr != nil && jack.ErrorCode(uerr) != jack.ENOTFOUND {
		s.logger.Error("save run", "run", run.ID, "err", uerr)
	}
	what := "Run " + fmt.Sprint(run.ID)
	if run.Kind == jack.KindCron {
		what = "Cron job " + run.Job + " (run " + fmt.Sprint(run.ID) + ")"
	}
	switch {
	case run.State == jack.RunExited && run.ExitCode == 0:
		s.event(run.EnvID, run.Kind, "%s exited with code 0 in %s", what, now.Sub(run.CreatedAt).Round(time.Millisecond))
	case run.State == jack.RunExited:
		s.event(run.EnvID, run.Kind, "%s failed: exited with code %d", what, run.ExitCode)
	default:
		s.event(run.EnvID, run.Kind, "%s failed: %s", what, run.Reason)
	}
}

// DeleteVolumes removes an environment's volumes once it is deleted.
func (r *OneOffs) DeleteVolumes(ctx context.Context, app, envName string) ([]string, error) {
	runtime, err := r.oneOffRuntime()
	if err != nil {
		return nil, err
	}
	if _, err := r.store.FindEnv(ctx, app, envName); err == nil {
		return nil, jack.Errorf(jack.ECONFLICT, "%s/%s still exists; its volumes go when it is deleted", app, envName)
	}
	return runtime.RemoveVolumes(ctx, app, envName)
}

// stop stops the one-off containers of app/env ("" for all): those of an
// environment being deleted, and at Open (see endInterrupted).
func (r *OneOffs) stop(ctx context.Context, app, env string) {
	runtime, ok := r.runtime.(jack.OneOffRuntime)
	if !ok {
		return
	}
	cs, err := runtime.ListOneOffs(ctx, app, env)
	if err != nil {
		r.logger.Warn("list one-off containers", "err", err)
		return
	}
	var wg sync.WaitGroup
	for _, c := range cs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r.logger.Info("stopping one-off container", "app", c.App, "env", c.Env, "what", c.Process, "container", jack.ShortID(c.ID))
			if err := r.runtime.Stop(ctx, c.ID, time.Second); err != nil {
				r.logger.Warn("stop one-off container", "container", jack.ShortID(c.ID), "err", err)
			}
		}()
	}
	wg.Wait()
}

// endInterrupted stops the one-off containers a previous run of the daemon
// left, which have lost their streams and their deployments, and ends
// their runs.
func (r *OneOffs) endInterrupted(ctx context.Context) error {
	r.stop(ctx, "", "")
	n, err := r.store.EndRunningRuns(ctx, "interrupted: jack server stopped while it ran")
	if err != nil {
		return fmt.Errorf("end interrupted runs: %w", err)
	}
	if n > 0 {
		r.logger.Info("ended runs interrupted by a restart", "runs", n)
	}
	return nil
}
