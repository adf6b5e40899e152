package docker

import (
	"context"
	"sync"
	"time"

	jack "github.com/jack-paas/jack"
)

var _ jack.StatsRuntime = (*Runtime)(nil)

// Stats sources; see Runtime.StatsSource.
const (
	StatsAuto   = ""       // the cgroup files when this machine has them, else the engine
	StatsCgroup = "cgroup" // only the cgroup files
	StatsEngine = "engine" // only the engine's one-shot stats
)

// statsState is what Stats keeps between calls: where the cgroup files
// are, and the limits the engine reported per container (they never change,
// since Jack never updates a container).
type statsState struct {
	once   sync.Once
	cgroup *cgroupV1 // nil when the files are not on this machine

	mu     sync.Mutex
	limits map[string]limits
	calls  int
}

type limits struct {
	cpus   float64
	memory uint64
	used   time.Time
}

// Stats returns one sample of what a running instance uses. With the
// engine on this machine and cgroup v1 (cgroupfs driver) it reads the
// container's cgroup files and its network counters from /proc, a few
// small reads and no call to the engine; otherwise it asks the engine for
// one-shot stats. ENOTFOUND when the instance is gone.
func (r *Runtime) Stats(ctx context.Context, id string) (*jack.ContainerStats, error) {
	r.stats.once.Do(func() {
		if r.StatsSource != StatsEngine {
			r.stats.cgroup = findCgroupV1(r.CgroupRoot, r.isLocal())
		}
	})
	if cg := r.stats.cgroup; cg != nil {
		s, err := cg.read(id)
		if err == nil {
			return s, nil
		}
		if r.StatsSource == StatsCgroup || !cg.missing(err) {
			return nil, err
		}
		// The container's files are not there: it is gone, or the engine
		// keeps it elsewhere; the engine knows which.
	} else if r.StatsSource == StatsCgroup {
		return nil, jack.Errorf(jack.EUNAVAILABLE, "no cgroup v1 files of Docker containers under %s", r.cgroupRoot())
	}
	return r.engineStats(ctx, id)
}

// isLocal reports whether the engine runs on this machine, so that its
// containers' cgroup files are ours to read.
func (r *Runtime) isLocal() bool {
	host := r.cli.DaemonHost()
	return len(host) > 7 && host[:7] == "unix://"
}

func (r *Runtime) cgroupRoot() string {
	if r.CgroupRoot != "" {
		return r.CgroupRoot
	}
	return "/sys/fs/cgroup"
}
