package docker

import (
	"context"
	"testing"

	jack "github.com/jack-paas/jack"
)

// TestStatsFromCgroupsAndEngineAgree samples an instance that holds 24 MiB
// under a 64 MiB, half-core limit, from its cgroup files and from the
// engine, and finds the same limits, memory and traffic in both.
func TestStatsFromCgroupsAndEngineAgree(t *testing.T) {
	r, cli := newRuntime(t)
	spec := webSpec(testImage(t, cli), 1)
	spec.Memory = 64 << 20
	spec.CPUs = 0.5
	c := start(t, r, spec)
	if status, _ := get(t, "http://"+c.Address+"/alloc?mb=24"); status != 200 {
		t.Fatalf("alloc answered %d", status)
	}
	ctx := context.Background()
	for _, source := range []string{StatsCgroup, StatsEngine} {
		t.Run(source, func(t *testing.T) {
			rt, _ := newRuntime(t)
			rt.StatsSource = source
			s, err := rt.Stats(ctx, c.ID)
			if err != nil {
				t.Fatalf("Stats: %v", err)
			}
			if s.MemoryLimit != 64<<20 || s.CPULimit != 0.5 {
				t.Errorf("limits: memory %d, cpus %v; want %d and 0.5", s.MemoryLimit, s.CPULimit, 64<<20)
			}
			if s.MemoryWorkingSet < 24<<20 || s.MemoryWorkingSet > s.MemoryUsage || s.MemoryUsage > 64<<20 {
				t.Errorf("memory: working set %d, usage %d; want at least 24 MiB held, under the limit", s.MemoryWorkingSet, s.MemoryUsage)
			}
			if s.CPUSeconds <= 0 {
				t.Errorf("CPU seconds %v; the app has run", s.CPUSeconds)
			}
			if s.NetRxBytes == 0 || s.NetTxBytes == 0 {
				t.Errorf("network rx %d tx %d; the app answered requests", s.NetRxBytes, s.NetTxBytes)
			}
		})
	}
}

// TestStatsOfAGoneInstanceIsNotFound: a container that vanished gives
// ENOTFOUND from either source, so a collector can skip it.
func TestStatsOfAGoneInstanceIsNotFound(t *testing.T) {
	r, cli := newRuntime(t)
	c := start(t, r, webSpec(testImage(t, cli), 1))
	if err := r.Stop(context.Background(), c.ID, 0); err != nil {
		t.Fatal(err)
	}
	for _, source := range []string{StatsAuto, StatsEngine} {
		rt, _ := newRuntime(t)
		rt.StatsSource = source
		if _, err := rt.Stats(context.Background(), c.ID); jack.ErrorCode(err) != jack.ENOTFOUND {
			t.Errorf("source %q: Stats of a removed instance = %v; want ENOTFOUND", source, err)
		}
	}
}
