package jack

import (
	"context"
	"time"
)

// Run states.
const (
	RunRunning = "running"
	RunExited  = "exited"  // ran to the end; ExitCode says how it went
	RunFailed  = "failed"  // could not run, or was stopped (timeout, interrupted); Reason says why
	RunSkipped = "skipped" // a cron tick skipped because the previous run was still going
)

// Run is one one-off command of an environment: a `jack run`, or a run of
// a cron job at one tick of its schedule. Runs are kept with their exit
// codes and last lines of output.
type Run struct {
	ID      int64    `json:"id"`
	EnvID   int64    `json:"env_id"`
	Kind    string   `json:"kind"`          // KindRun or KindCron
	Job     string   `json:"job,omitempty"` // the cron job's name
	Command []string `json:"command"`
	Process string   `json:"process,omitempty"` // whose resources it got
	Release int      `json:"release"`
	TTY     bool     `json:"tty,omitempty"`
	State   string   `json:"state"`
	// ExitCode is the command's exit status once State is RunExited.
	ExitCode int      `json:"exit_code"`
	Reason   string   `json:"reason,omitempty"`
	Output   []string `json:"output,omitempty"` // last lines; not kept for TTY sessions
	// Tick is the schedule tick a cron run is for; a tick is run at most
	// once, since its run is stored before it starts.
	Tick       *time.Time `json:"tick,omitempty"`
	CreatedAt  time.Time  `json:"created_at"`
	FinishedAt *time.Time `json:"finished_at,omitempty"`
}

// RunStore keeps runs.
type RunStore interface {
	// CreateRun stores a run and gives it an ID. ECONFLICT when a cron run
	// of the same environment, job and tick is stored already.
	CreateRun(ctx context.Context, r *Run) error
	// UpdateRun saves State, ExitCode, Reason, Output and FinishedAt.
	UpdateRun(ctx context.Context, r *Run) error
	// ListRuns returns an environment's runs, newest first, at most limit;
	// kind and job, when given, keep only those.
	ListRuns(ctx context.Context, envID int64, kind, job string, limit int) ([]*Run, error)
	// LastCronTick returns the newest tick a cron job of the environment
	// has a run for; the zero time when none.
	LastCronTick(ctx context.Context, envID int64, job string) (time.Time, error)
	// EndRunningRuns marks every run still "running" as failed with
	// reason: what a restart finds of runs its predecessor was in.
	EndRunningRuns(ctx context.Context, reason string) (int, error)
}

// RunRequest asks for a one-off command of an environment's current
// release.
type RunRequest struct {
	App     string   `json:"app"`
	Env     string   `json:"env"`
	Command []string `json:"command"`
	// Process picks whose resources the container gets; default web, else
	// the first process.
	Process string `json:"process,omitempty"`
	// Stdin keeps the command's input open; TTY gives it a terminal.
	Stdin bool     `json:"stdin,omitempty"`
	TTY   bool     `json:"tty,omitempty"`
	Size  TermSize `json:"size,omitempty"`
}

// Runner runs one-off commands and cron jobs of environments.
type Runner interface {
	// Run runs a one-off command of the environment's current release with
	// streams, until it exits; ending ctx stops it. EINVALID when the
	// environment has never been deployed or the process is unknown.
	Run(ctx context.Context, req RunRequest, streams OneOffIO) (*Run, error)
	// RunCron runs a cron job of the environment now, outside its
	// schedule, and returns the run once it has ended. ENOTFOUND for a job
	// the current release does not have.
	RunCron(ctx context.Context, app, env, job string) (*Run, error)
	// CronJobs returns the cron jobs of the environment's current release
	// with their next and last runs.
	CronJobs(ctx context.Context, app, env string) ([]*CronStatus, error)
	// DeleteVolumes removes an environment's volumes; call it once the
	// environment is deleted. It returns the names removed.
	DeleteVolumes(ctx context.Context, app, env string) ([]string, error)
}

// CronStatus is a cron job as `jack cron` lists it.
type CronStatus struct {
	*CronJob
	Next    time.Time `json:"next"`
	LastRun *Run      `json:"last_run,omitempty"`
}
