package metrics

import (
	"context"
	"fmt"
	"time"

	jack "github.com/jack-paas/jack"
)

// retention is how long minute rollups are kept.
const retention = 24 * time.Hour

// rollups sums rounds into the current minute's rollups and saves them
// when the minute is over. Only the monitor's loop uses it.
type rollups struct {
	minute   time.Time
	groups   map[groupKey]*group
	restarts map[string]int // by envID/instance name: RestartsTotal at the last round
}

type groupKey struct {
	envID   int64
	process string // "" for the whole environment
}

// group is one minute of one environment or process.
type group struct {
	rounds           int
	cpuSum, cpuMax   float64
	memSum, memMax   uint64
	instances        int
	moved            counters
	requests, errors uint64
	buckets          []uint64
	count            uint64
}

func newRollups() *rollups {
	return &rollups{groups: map[groupKey]*group{}, restarts: map[string]int{}}
}

// add sums one round in, first saving the previous minute's rollups if the
// round is in a later minute, and pruning what is older than retention.
func (r *rollups) add(ctx context.Context, store jack.MetricsStore, rounds []*envRound, bounds []float64, now time.Time) error {
	minute := now.UTC().Truncate(time.Minute)
	var err error
	if !r.minute.IsZero() && minute.After(r.minute) {
		err = r.flush(ctx, store, bounds)
	}
	if r.minute.IsZero() || minute.After(r.minute) {
		r.minute = minute
	}
	seen := map[string]int{}
	for _, er := range rounds {
		envGroup := r.group(er.env.ID, "")
		perProcess := map[string]*roundSum{}
		envSum := &roundSum{}
		for _, ir := range er.instances {
			key := fmt.Sprintf("%d/%s", er.env.ID, ir.inst.Name)
			if prev, ok := r.restarts[key]; ok && ir.inst.RestartsTotal > prev {
				ir.moved.restarts = ir.inst.RestartsTotal - prev
			}
			seen[key] = ir.inst.RestartsTotal
			ps := perProcess[ir.inst.Process]
			if ps == nil {
				ps = &roundSum{}
				perProcess[ir.inst.Process] = ps
			}
			ps.addInstance(ir)
			envSum.addInstance(ir)
		}
		for process, ps := range perProcess {
			g := r.group(er.env.ID, process)
			g.addRound(ps)
			if er.traffic != nil && process == jack.DefaultProcessName {
				for id, t := range er.traffic.byInstance {
					if inProcess(er, id, process) {
						g.addTraffic(t)
					}
				}
			}
		}
		envGroup.addRound(envSum)
		if er.traffic != nil {
			envGroup.addTraffic(er.traffic.total)
		}
	}
	r.restarts = seen
	return err
}

// roundSum is one round's sum over the instances of a group.
type roundSum struct {
	cpu       float64
	mem       uint64
	instances int
	moved     counters
}

func (s *roundSum) addInstance(ir *instRound) {
	s.instances++
	if ir.sample != nil {
		s.cpu += ir.sample.cpuPercent
		s.mem += ir.sample.stats.MemoryWorkingSet
	}
	s.moved.netRx += ir.moved.netRx
	s.moved.netTx += ir.moved.netTx
	s.moved.blockRead += ir.moved.blockRead
	s.moved.blockWrite += ir.moved.blockWrite
	s.moved.restarts += ir.moved.restarts
}

func (g *group) addRound(s *roundSum) {
	g.rounds++
	g.cpuSum += s.cpu
	g.cpuMax = max(g.cpuMax, s.cpu)
	g.memSum += s.mem
	g.memMax = max(g.memMax, s.mem)
	g.instances = max(g.instances, s.instances)
	g.moved.netRx += s.moved.netRx
	g.moved.netTx += s.moved.netTx
	g.moved.blockRead += s.moved.blockRead
	g.moved.blockWrite += s.moved.blockWrite
	g.moved.restarts += s.moved.restarts
}

func (g *group) addTraffic(t trafficDelta) {
	g.requests += t.requests
	g.errors += t.errors
	g.count += t.count
	if len(g.buckets) < len(t.buckets) {
		g.buckets = append(g.buckets, make([]uint64, len(t.buckets)-len(g.buckets))...)
	}
	for i, n := range t.buckets {
		g.buckets[i] += n
	}
}

func inProcess(er *envRound, id, process string) bool {
	for _, ir := range er.instances {
		if ir.inst.ID == id {
			return ir.inst.Process == process
		}
	}
	return false
}

func (r *rollups) group(envID int64, process string) *group {
	k := groupKey{envID, process}
	g := r.groups[k]
	if g == nil {
		g = &group{}
		r.groups[k] = g
	}
	return g
}

// flush saves the current minute's rollups and prunes old ones.
func (r *rollups) flush(ctx context.Context, store jack.MetricsStore, bounds []float64) error {
	out := make([]*jack.Rollup, 0, len(r.groups))
	for k, g := range r.groups {
		if g.rounds == 0 {
			continue
		}
		out = append(out, &jack.Rollup{
			EnvID: k.envID, Process: k.process, Minute: r.minute, Instances: g.instances,
			CPUPercent: g.cpuSum / float64(g.rounds), CPUMax: g.cpuMax,
			MemoryAvg: g.memSum / uint64(g.rounds), MemoryMax: g.memMax,
			NetRx: g.moved.netRx, NetTx: g.moved.netTx, BlockRead: g.moved.blockRead, BlockWrite: g.moved.blockWrite,
			Restarts: g.moved.restarts, Requests: g.requests, Errors: g.errors,
			P95: quantile(0.95, bounds, g.buckets, g.count),
		})
	}
	r.groups = map[groupKey]*group{}
	if err := store.SaveRollups(ctx, out); err != nil {
		return err
	}
	return store.PruneRollups(ctx, r.minute.Add(-retention))
}
