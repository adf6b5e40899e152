package deploy

import (
	"context"
	"sort"
	"sync"
	"time"

	jack "github.com/jack-paas/jack"
)

// instance is the orchestrator's view of one container.
type instance struct {
	c         *jack.Container
	state     string // one of jack.Instance*
	routed    bool   // in the router's table
	stopping  bool   // stopped on purpose: its death is not a crash
	deploy    int64  // the deployment that started it, 0 when adopted or healed
	dead      chan struct{}
	deadOnce  sync.Once
	exitCode  int
	oom       bool
	lastCheck time.Time
	lastErr   string
	check     checkState // of the continuous health checks (checker.go)
}

func newInstance(c *jack.Container, state string) *instance {
	return &instance{c: c, state: state, dead: make(chan struct{})}
}

// markDead records that the container stopped running.
func (i *instance) markDead(code int, oom bool) {
	i.deadOnce.Do(func() {
		i.exitCode, i.oom = code, oom
		close(i.dead)
	})
}

// envState is what the orchestrator holds in memory for one environment.
type envState struct {
	lock chan struct{} // held by the deployment or heal that changes the environment
	// claimed is set while a user's action (deploy, delete) waits for or
	// holds the lock; a second one is refused. Guarded by Orchestrator.mu.
	claimed bool
	// cancelHeal stops a heal in progress, so a user's action never waits
	// for a crash-looping replacement. Guarded by Orchestrator.mu.
	cancelHeal context.CancelFunc
	instances  map[string]*instance
	restarts   map[string]*backoff // by instance name (process.slot)
	deaths     map[string]*deaths  // by instance name, for restart counts (checker.go)
}

func newEnvState() *envState {
	return &envState{
		lock:      make(chan struct{}, 1),
		instances: map[string]*instance{},
		restarts:  map[string]*backoff{},
	}
}

// tryLock takes the environment's lock if it is free.
func (s *envState) tryLock() bool {
	select {
	case s.lock <- struct{}{}:
		return true
	default:
		return false
	}
}

func (s *envState) unlock() { <-s.lock }

// backoff spaces out replacements of an instance that keeps dying.
type backoff struct {
	failures  int
	notBefore time.Time
}

// next records one more failure and returns the delay before the next try:
// 1s, 2s, 4s … up to 5 minutes.
func (b *backoff) next(now time.Time) time.Duration {
	b.failures++
	d := time.Second << min(b.failures-1, 9)
	if d > 5*time.Minute {
		d = 5 * time.Minute
	}
	b.notBefore = now.Add(d)
	return d
}

// byProcess returns the live instances of a process, by slot.
func (s *envState) byProcess(process string) []*instance {
	var out []*instance
	for _, in := range s.instances {
		if in.c.Process == process && !in.stopping {
			out = append(out, in)
		}
	}
	sort.Slice(out, func(a, b int) bool {
		if out[a].c.Slot != out[b].c.Slot {
			return out[a].c.Slot < out[b].c.Slot
		}
		return out[a].c.StartedAt.Before(out[b].c.StartedAt)
	})
	return out
}

// processes returns the names of processes with live instances.
func (s *envState) processes() []string {
	seen := map[string]bool{}
	var out []string
	for _, in := range s.instances {
		if !in.stopping && !seen[in.c.Process] {
			seen[in.c.Process] = true
			out = append(out, in.c.Process)
		}
	}
	sort.Strings(out)
	return out
}

// view returns the instance as the API shows it.
func (i *instance) view() *jack.Instance {
	return &jack.Instance{
		ID:             i.c.ID,
		Name:           i.c.Name(),
		Process:        i.c.Process,
		Slot:           i.c.Slot,
		Release:        i.c.Release,
		Version:        i.c.Version,
		Address:        i.c.Address,
		State:          i.state,
		ExitCode:       i.exitCode,
		StartedAt:      i.c.StartedAt,
		LastCheck:      i.lastCheck,
		LastCheckError: i.lastErr,
		CheckLatency:   i.check.latency,
		CheckFailures:  i.check.failures,
	}
}
