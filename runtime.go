package jack

import (
	"context"
	"strconv"
	"time"
)

// Labels Jack puts on everything it creates in the engine. Jack touches no
// container, image or network without LabelManaged.
const (
	LabelManaged    = "dev.jack.managed" // "true"
	LabelOwner      = "dev.jack.owner"   // the ID of the Jack installation (data folder) that made it
	LabelApp        = "dev.jack.app"
	LabelEnv        = "dev.jack.env"
	LabelProcess    = "dev.jack.process"
	LabelSlot       = "dev.jack.slot"
	LabelRelease    = "dev.jack.release"
	LabelVersion    = "dev.jack.version"
	LabelSpec       = "dev.jack.spec" // hash of what the instance runs; equal hashes are interchangeable
	LabelDeployment = "dev.jack.deployment"
	LabelPort       = "dev.jack.port"
	// LabelKind says what a container is: "instance" (or absent, on
	// containers of older Jacks) for an instance of a process, else the
	// kind of one-off container it is: "release", "run" or "cron".
	LabelKind = "dev.jack.kind"
)

// InstanceSpec is everything a runtime needs to start one instance.
type InstanceSpec struct {
	Owner       string // the installation's ID; a runtime lists only its owner's instances
	App, Env    string
	Process     string
	Slot        int
	Release     int
	Version     string   // the version's label
	Deployment  int64    // the deployment that started it
	Spec        string   // hash of image, command, config and resources
	Image       string   // image ID
	ImageDigest string   // REPO@sha256:… the image was pulled at, to pull it again if the engine lost it; "" for a local build
	Entrypoint  []string // replaces the image's ENTRYPOINT when given
	Command     []string
	Environ     []string // KEY=VALUE
	Port        int
	Memory      int64
	CPUs        float64
	StopTimeout time.Duration
	// Volumes are the environment's named volumes to mount.
	Volumes []VolumeMount
}

// Name returns the instance's name, process.slot.
func (s *InstanceSpec) Name() string { return InstanceName(s.Process, s.Slot) }

// Container is what a runtime reports of an instance it runs or ran.
type Container struct {
	ID         string
	Owner      string
	App, Env   string
	Process    string
	Slot       int
	Release    int
	Version    string
	Deployment int64
	Spec       string
	// Kind is KindInstance for an instance, else the kind of one-off
	// container, whose Process then holds its name ("run", "cron:NAME").
	Kind string
	// StopTimeout is how long the instance is given to exit after SIGTERM.
	StopTimeout time.Duration
	Address     string // ip:port on the network the router reaches
	Running     bool
	ExitCode    int
	OOMKilled   bool
	StartedAt   time.Time
	FinishedAt  time.Time
}

// Name returns the instance's name, process.slot.
func (c *Container) Name() string { return InstanceName(c.Process, c.Slot) }

// ContainerEvent tells that an instance changed state in the engine.
type ContainerEvent struct {
	ID       string
	App, Env string
	Action   string // "start", "die", "oom", or "resync" after the event stream was lost
	ExitCode int
}

// Runtime runs instances: one Docker engine now, a Swarm later. Methods
// return EUNAVAILABLE when the engine does not answer.
type Runtime interface {
	// InspectImage returns what the runtime knows of an image present on it.
	// ENOTFOUND if it is not there.
	InspectImage(ctx context.Context, ref string) (ImageInfo, error)
	// PullImage pulls ref from its registry, with auth when given (else
	// anonymously), calling progress as it goes, and returns the image as
	// InspectImage does, its Digest the content digest it was pulled at
	// (REPO@sha256:…). ENOTFOUND if the registry has no such image,
	// EINVALID if it refuses the credentials, EUNAVAILABLE if it does not
	// answer.
	PullImage(ctx context.Context, ref string, auth *RegistryAuth, progress func(PullProgress)) (ImageInfo, error)
	// Start creates and starts an instance and returns it running, with its
	// address. The instance is not yet known to be healthy.
	Start(ctx context.Context, spec *InstanceSpec) (*Container, error)
	// Stop sends SIGTERM, waits up to timeout, kills, and removes the
	// instance. Stopping one that is gone is not an error.
	Stop(ctx context.Context, id string, timeout time.Duration) error
	// List returns the instances of an environment ("" for all) found by
	// their labels, running or not. One-off containers (release, run,
	// cron) are not instances and are left out.
	List(ctx context.Context, app, env string) ([]*Container, error)
	// Inspect returns one instance. ENOTFOUND if it is gone.
	Inspect(ctx context.Context, id string) (*Container, error)
	// Logs returns up to the last n lines the instance wrote, stdout and stderr.
	Logs(ctx context.Context, id string, n int) ([]string, error)
	// Watch sends instance events until ctx ends, reconnecting when the
	// engine restarts and sending a "resync" event when events may have been
	// missed.
	Watch(ctx context.Context) <-chan ContainerEvent
}

// InstanceName returns process.slot.
func InstanceName(process string, slot int) string {
	return process + "." + strconv.Itoa(slot)
}
