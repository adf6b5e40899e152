package jack

import (
	"context"
	"io"
	"time"
)

// Kinds of containers, the value of LabelKind.
const (
	KindInstance = "instance"
	KindRelease  = "release" // the release command of a deploy
	KindRun      = "run"     // `jack run`
	KindCron     = "cron"    // a run of a cron job
)

// OneOffSpec is everything a runtime needs to run a one-off container: a
// command of a release's image with its config, on the instances' network,
// that runs until it exits and is then removed.
type OneOffSpec struct {
	Owner    string
	App, Env string
	// Kind is KindRelease, KindRun or KindCron; Name is what its
	// LabelProcess says: "release", "run" or "cron:NAME".
	Kind, Name string
	// Process is the process whose resources (memory, cpus) it gets.
	Process    string
	Release    int
	Version    string
	Deployment int64 // the deployment a release command belongs to
	Image      string
	Entrypoint []string // replaces the image's ENTRYPOINT when given
	Command    []string // replaces the image's CMD when given
	Environ    []string
	Memory     int64
	CPUs       float64
	Volumes    []VolumeMount
	// Stdin keeps the container's standard input open for OneOffIO.Stdin;
	// TTY gives it a terminal (output then comes on Stdout only).
	Stdin, TTY bool
	// StopTimeout is how long it is given after SIGTERM when stopped.
	StopTimeout time.Duration
}

// OneOffIO is where a one-off container's streams go.
type OneOffIO struct {
	Stdin          io.Reader // nil: no input
	Stdout, Stderr io.Writer // nil: discarded
	// Resize carries the terminal's size while a TTY session lasts.
	Resize <-chan TermSize
	// Started is called with the container's ID once it runs.
	Started func(id string)
}

// TermSize is a terminal's size in characters.
type TermSize struct {
	Width  uint `json:"width"`
	Height uint `json:"height"`
}

// OneOffResult is how a one-off container ended.
type OneOffResult struct {
	ExitCode int
	// Stopped is set when it was stopped because ctx ended, rather than
	// exiting on its own.
	Stopped bool
}

// OneOffRuntime is what a runtime offers beyond instances: one-off
// containers, files read out of images, and an environment's volumes.
// docker.Runtime implements it; the orchestrator asks for it with a type
// assertion, so a runtime without it still runs instances.
type OneOffRuntime interface {
	// RunOneOff creates the container, attaches to its streams, starts it,
	// copies its output until it exits, removes it and returns its exit
	// code. When ctx ends first the container is stopped (SIGTERM, then
	// SIGKILL after spec.StopTimeout), removed, and Stopped is set.
	// EINVALID when the command can't start (not found in the image).
	RunOneOff(ctx context.Context, spec *OneOffSpec, streams OneOffIO) (OneOffResult, error)
	// ListOneOffs returns the one-off containers of app/env ("" for all),
	// with Kind and Name set from their labels.
	ListOneOffs(ctx context.Context, app, env string) ([]*Container, error)
	// ReadImageFile returns a file's content from an image without running
	// it. ENOTFOUND when the image has no such file.
	ReadImageFile(ctx context.Context, image, path string) ([]byte, error)
	// RemoveVolumes removes an environment's named volumes and returns
	// their names. ECONFLICT when a container still uses one.
	RemoveVolumes(ctx context.Context, app, env string) ([]string, error)
}
