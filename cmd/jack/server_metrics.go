package main

import (
	"time"

	"github.com/jack-paas/jack"
	"github.com/jack-paas/jack/internal/metrics"
	"github.com/jack-paas/jack/internal/server"
	"github.com/spf13/pflag"
)

// healthFlags are `jack server`'s metrics and health flags. Thresholds are
// read as text so that a wrong one gets an error that says what to give.
type healthFlags struct {
	p95, cpu, memory string
}

func (h *healthFlags) register(f *pflag.FlagSet, cfg *server.Config) {
	d := metrics.DefaultThresholds
	f.StringVar(&cfg.MetricsAddr, "metrics", "", "also serve /metrics on this address, without a token (e.g. 10.0.0.5:9100)")
	f.DurationVar(&cfg.MetricsInterval, "metrics-interval", 10*time.Second, "how often instances are sampled")
	f.StringVar(&cfg.StatsD, "statsd", "", "push metrics to this StatsD/DogStatsD agent, HOST:PORT (UDP)")
	f.StringVar(&h.p95, "health-p95", d.P95.String(), "p95 latency over the last minute above which health is warning (degraded above twice)")
	f.StringVar(&h.cpu, "health-cpu", "90", "percent of an instance's CPU limit that counts as near the limit")
	f.StringVar(&h.memory, "health-memory", "90", "percent of an instance's memory limit that counts as near the limit")
	f.StringVar(&cfg.StatsSource, "stats-source", "", "where instance counters are read: cgroup, engine, or empty for cgroup files when present (for benchmarks)")
	f.MarkHidden("stats-source")
}

// apply checks the flags and puts them in cfg; a bad one is a usage error.
func (h *healthFlags) apply(cfg *server.Config) error {
	var err error
	switch cfg.StatsSource {
	case "", "cgroup", "engine":
	default:
		return usageErrorf("--stats-source %q is not known; use cgroup or engine", cfg.StatsSource)
	}
	if cfg.MetricsInterval < 100*time.Millisecond {
		return usageErrorf("--metrics-interval %s is too short; give 100ms or more, such as 10s", cfg.MetricsInterval)
	}
	if cfg.Thresholds.P95, err = metrics.ParseLatency("--health-p95", h.p95); err != nil {
		return usageErrorf("%s", jack.ErrorMessage(err))
	}
	if cfg.Thresholds.CPU, err = metrics.ParsePercent("--health-cpu", h.cpu); err != nil {
		return usageErrorf("%s", jack.ErrorMessage(err))
	}
	if cfg.Thresholds.Memory, err = metrics.ParsePercent("--health-memory", h.memory); err != nil {
		return usageErrorf("%s", jack.ErrorMessage(err))
	}
	if cfg.StatsD != "" {
		sd, err := metrics.NewStatsD(cfg.StatsD, "")
		if err != nil {
			return usageErrorf("%s", jack.ErrorMessage(err))
		}
		sd.Close()
	}
	return nil
}
