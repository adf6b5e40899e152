package jack

import (
	"fmt"
	"sort"
	"strings"
	"time"
)

// Deploy strategies.
const (
	StrategyRolling    = "rolling"     // replace instances a batch at a time; capacity never drops
	StrategyImmutable  = "immutable"   // start a full new set, then switch all traffic at once
	StrategyAllAtOnce  = "all-at-once" // stop the old set, then start the new one: downtime
	DefaultProcessName = "web"         // the process that gets HTTP traffic
)

// Defaults of the manifest, chosen to match what Beanstalk and Kamal users expect.
const (
	DefaultPort           = 8080
	DefaultHealthPath     = "/"
	DefaultHealthInterval = 5 * time.Second
	DefaultHealthTimeout  = 5 * time.Second
	DefaultDrain          = 30 * time.Second
	DefaultDeployTimeout  = 10 * time.Minute
	DefaultStopTimeout    = 10 * time.Second
	// DefaultReleaseTimeout bounds the release command of a deploy.
	DefaultReleaseTimeout = 10 * time.Minute
)

// Manifest says how to run a version's image: its processes, the release
// command that runs once per deploy, scheduled jobs, volumes and how to
// deploy. It is read from jack.yaml, a Procfile or a Dockerrun.aws.json by
// package internal/manifest; the domain knows nothing of those formats.
type Manifest struct {
	Processes map[string]*Process `json:"processes"`
	// Release runs once per deploy in a one-off container of the new
	// version, before any new instance takes traffic; empty: none.
	Release []string `json:"release,omitempty"`
	// Cron are jobs run on a schedule as one-off containers.
	Cron []*CronJob `json:"cron,omitempty"`
	// Volumes maps a volume's name to the absolute path it is mounted at in
	// every container of the environment. Volumes belong to the
	// environment and outlive deploys.
	Volumes map[string]string `json:"volumes,omitempty"`
	Deploy  DeployPolicy      `json:"deploy"`
	Static  []StaticEntry     `json:"static,omitempty"`
	// Image is the image a Dockerrun.aws.json names (Image.Name), deployed
	// when no --image is given.
	Image string `json:"image,omitempty"`
}

// Process is a named command of a version. Only "web" gets HTTP traffic.
type Process struct {
	// Entrypoint replaces the image's ENTRYPOINT when given (from a
	// Dockerrun.aws.json); jack.yaml's command replaces only its CMD.
	Entrypoint []string     `json:"entrypoint,omitempty"`
	Command    []string     `json:"command,omitempty"` // empty: the image's own entrypoint and command
	Port       int          `json:"port,omitempty"`    // 0: the image's first exposed port, else 8080
	Instances  int          `json:"instances"`
	Health     *HealthCheck `json:"health,omitempty"` // nil: HTTP check for web, "still running" for others
	Memory     int64        `json:"memory,omitempty"` // bytes; 0 means no limit
	CPUs       float64      `json:"cpus,omitempty"`   // 0 means no limit
	Stop       Duration     `json:"stop_timeout,omitempty"`
}

// HealthCheck is an HTTP GET of Path that passes on any status below 500.
type HealthCheck struct {
	Path     string   `json:"path"`
	Interval Duration `json:"interval"`
	Timeout  Duration `json:"timeout"`
}

// DeployPolicy says how a deployment replaces instances.
type DeployPolicy struct {
	Strategy string   `json:"strategy"`
	Batch    int      `json:"batch"`
	Drain    Duration `json:"drain"`
	Timeout  Duration `json:"timeout"`
	// ReleaseTimeout bounds the release command; past it the deploy fails.
	ReleaseTimeout Duration `json:"release_timeout,omitempty"`
}

// Duration is a time.Duration that reads and writes as "30s" in YAML and JSON.
type Duration time.Duration

// D returns the duration as a time.Duration.
func (d Duration) D() time.Duration { return time.Duration(d) }

// MarshalText writes the duration as Go's time.Duration string.
func (d Duration) MarshalText() ([]byte, error) { return []byte(time.Duration(d).String()), nil }

// UnmarshalText reads a duration such as "30s" or "1m30s".
func (d *Duration) UnmarshalText(b []byte) error {
	v, err := time.ParseDuration(string(b))
	if err != nil {
		return fmt.Errorf("%q is not a duration; write one like 30s, 2m or 1h", b)
	}
	*d = Duration(v)
	return nil
}

// Routed reports whether the process gets HTTP traffic from the router.
func (p *Process) Routed(name string) bool { return name == DefaultProcessName }

// HTTPChecked reports whether the process is health checked over HTTP: web
// always is, others when the manifest gives them a health path.
func (p *Process) HTTPChecked(name string) bool {
	return name == DefaultProcessName || (p.Health != nil && p.Health.Path != "")
}

// ValidateStrategy checks a deploy strategy's name.
func ValidateStrategy(s string) error {
	switch s {
	case StrategyRolling, StrategyImmutable, StrategyAllAtOnce:
		return nil
	}
	return Errorf(EINVALID, "deploy strategy %q is not known; use rolling, immutable or all-at-once", s)
}

// WithDefaults returns a copy of the manifest with every unset field given
// its default. image supplies the image's exposed port and command.
func (m *Manifest) WithDefaults(image ImageInfo) *Manifest {
	out := &Manifest{Processes: map[string]*Process{}, Deploy: m.Deploy, Release: m.Release, Cron: m.Cron, Volumes: m.Volumes, Image: m.Image, Static: m.Static}
	if len(m.Processes) == 0 {
		out.Processes[DefaultProcessName] = &Process{}
	}
	for name, p := range m.Processes {
		cp := Process{}
		if p != nil {
			cp = *p
		}
		out.Processes[name] = &cp
	}
	for name, p := range out.Processes {
		if p.Port == 0 {
			p.Port = image.Port()
		}
		if p.Instances == 0 {
			p.Instances = 1
		}
		if p.HTTPChecked(name) {
			h := HealthCheck{}
			if p.Health != nil {
				h = *p.Health
			}
			if h.Path == "" {
				h.Path = DefaultHealthPath
			}
			if h.Interval == 0 {
				h.Interval = Duration(DefaultHealthInterval)
			}
			if h.Timeout == 0 {
				h.Timeout = Duration(DefaultHealthTimeout)
			}
			p.Health = &h
		}
		if p.Stop == 0 {
			p.Stop = Duration(DefaultStopTimeout)
		}
	}
	if out.Deploy.Strategy == "" {
		out.Deploy.Strategy = StrategyRolling
	}
	if out.Deploy.Batch == 0 {
		out.Deploy.Batch = 1
	}
	if out.Deploy.Drain == 0 {
		out.Deploy.Drain = Duration(DefaultDrain)
	}
	if out.Deploy.Timeout == 0 {
		out.Deploy.Timeout = Duration(DefaultDeployTimeout)
	}
	if out.Deploy.ReleaseTimeout == 0 {
		out.Deploy.ReleaseTimeout = Duration(DefaultReleaseTimeout)
	}
	return out
}

// ProcessNames returns the names of the manifest's processes, web first.
func (m *Manifest) ProcessNames() []string {
	names := make([]string, 0, len(m.Processes))
	for n := range m.Processes {
		names = append(names, n)
	}
	sort.Slice(names, func(i, j int) bool {
		if (names[i] == DefaultProcessName) != (names[j] == DefaultProcessName) {
			return names[i] == DefaultProcessName
		}
		return names[i] < names[j]
	})
	return names
}

// Validate checks values that parse but make no sense.
func (m *Manifest) Validate() error {
	for _, name := range m.ProcessNames() {
		if err := ValidateName("process", name); err != nil {
			return err
		}
		p := m.Processes[name]
		if p == nil {
			continue
		}
		if p.Port < 0 || p.Port > 65535 {
			return Errorf(EINVALID, "processes.%s.port %d is not a TCP port (1-65535)", name, p.Port)
		}
		if p.Instances < 0 || p.Instances > 100 {
			return Errorf(EINVALID, "processes.%s.instances %d is out of range (0-100)", name, p.Instances)
		}
		if p.Health != nil && p.Health.Path != "" && !strings.HasPrefix(p.Health.Path, "/") {
			return Errorf(EINVALID, "processes.%s.health.path %q must start with /", name, p.Health.Path)
		}
		if p.Memory != 0 && p.Memory < 6<<20 {
			return Errorf(EINVALID, "processes.%s.memory is below the engine's minimum of 6m", name)
		}
		if p.CPUs < 0 {
			return Errorf(EINVALID, "processes.%s.cpus must be positive", name)
		}
		if p.Stop < 0 || p.Health != nil && (p.Health.Interval < 0 || p.Health.Timeout < 0) {
			return Errorf(EINVALID, "processes.%s durations must be positive", name)
		}
	}
	if m.Deploy.Strategy != "" {
		if err := ValidateStrategy(m.Deploy.Strategy); err != nil {
			return err
		}
	}
	if m.Deploy.Batch < 0 {
		return Errorf(EINVALID, "deploy.batch must be at least 1")
	}
	if m.Deploy.Drain < 0 || m.Deploy.Timeout < 0 || m.Deploy.ReleaseTimeout < 0 {
		return Errorf(EINVALID, "deploy durations must be positive")
	}
	if err := ValidateVolumes(m.Volumes); err != nil {
		return err
	}
	if err := validateStatic(m.Static); err != nil {
		return err
	}
	return ValidateCron(m.Cron)
}
