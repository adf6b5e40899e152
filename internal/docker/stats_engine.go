package docker

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/docker/docker/api/types/container"
	jack "github.com/jack-paas/jack"
)

// engineStats asks the engine for one sample of a container, and for its
// limits once.
func (r *Runtime) engineStats(ctx context.Context, id string) (*jack.ContainerStats, error) {
	lim, err := r.limits(ctx, id)
	if err != nil {
		return nil, err
	}
	resp, err := r.cli.ContainerStatsOneShot(ctx, id)
	if isNotFound(err) {
		return nil, jack.Errorf(jack.ENOTFOUND, "instance %.12s is gone", id)
	} else if err != nil {
		return nil, r.fail(err, "read stats of %.12s", id)
	}
	defer resp.Body.Close()
	var st container.StatsResponse
	if err := json.NewDecoder(resp.Body).Decode(&st); err != nil {
		return nil, fmt.Errorf("decode stats of %.12s: %w", id, err)
	}
	if st.Read.IsZero() || st.Read.Year() <= 1 {
		// A container that stopped answers with empty stats.
		return nil, jack.Errorf(jack.ENOTFOUND, "instance %.12s is not running", id)
	}
	s := &jack.ContainerStats{
		Time:        time.Now(),
		CPUSeconds:  float64(st.CPUStats.CPUUsage.TotalUsage) / 1e9,
		CPULimit:    lim.cpus,
		MemoryUsage: st.MemoryStats.Usage,
		MemoryLimit: lim.memory,
	}
	inactive := st.MemoryStats.Stats["total_inactive_file"] // cgroup v1
	if v, ok := st.MemoryStats.Stats["inactive_file"]; ok && inactive == 0 {
		inactive = v // cgroup v2
	}
	s.MemoryWorkingSet = s.MemoryUsage - min(inactive, s.MemoryUsage)
	for _, n := range st.Networks {
		s.NetRxBytes += n.RxBytes
		s.NetTxBytes += n.TxBytes
	}
	for _, e := range st.BlkioStats.IoServiceBytesRecursive {
		switch e.Op {
		case "Read", "read":
			s.BlockReadBytes += e.Value
		case "Write", "write":
			s.BlockWriteBytes += e.Value
		}
	}
	return s, nil
}

// limits returns a container's CPU and memory limits, inspecting it the
// first time only.
func (r *Runtime) limits(ctx context.Context, id string) (limits, error) {
	now := time.Now()
	r.stats.mu.Lock()
	if r.stats.limits == nil {
		r.stats.limits = map[string]limits{}
	}
	r.stats.calls++
	if r.stats.calls%1024 == 0 {
		for k, l := range r.stats.limits {
			if now.Sub(l.used) > 10*time.Minute {
				delete(r.stats.limits, k)
			}
		}
	}
	l, ok := r.stats.limits[id]
	if ok {
		l.used = now
		r.stats.limits[id] = l
	}
	r.stats.mu.Unlock()
	if ok {
		return l, nil
	}
	resp, err := r.cli.ContainerInspect(ctx, id)
	if isNotFound(err) {
		return limits{}, jack.Errorf(jack.ENOTFOUND, "instance %.12s is gone", id)
	} else if err != nil {
		return limits{}, r.fail(err, "inspect container %.12s", id)
	}
	if resp.HostConfig != nil {
		l.cpus = float64(resp.HostConfig.NanoCPUs) / 1e9
		if resp.HostConfig.CPUQuota > 0 && resp.HostConfig.CPUPeriod > 0 {
			l.cpus = float64(resp.HostConfig.CPUQuota) / float64(resp.HostConfig.CPUPeriod)
		}
		if resp.HostConfig.Memory > 0 {
			l.memory = uint64(resp.HostConfig.Memory)
		}
	}
	l.used = now
	r.stats.mu.Lock()
	r.stats.limits[id] = l
	r.stats.mu.Unlock()
	return l, nil
}
