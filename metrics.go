package jack

import (
	"context"
	"time"
)

// ContainerStats is one sample of an instance's resource use, as its
// control groups count it. Counters (CPU seconds, bytes) run from the
// container's start; a replacement starts them again from zero.
type ContainerStats struct {
	Time       time.Time `json:"time"`
	CPUSeconds float64   `json:"cpu_seconds"` // CPU time used, all cores together
	// CPULimit is the cores the instance may use (its cpus: setting); 0
	// when unlimited.
	CPULimit    float64 `json:"cpu_limit,omitempty"`
	MemoryUsage uint64  `json:"memory_usage"`
	// MemoryWorkingSet is the usage less the page cache the kernel can
	// reclaim: what counts against the limit (cAdvisor's working set).
	MemoryWorkingSet uint64 `json:"memory_working_set"`
	MemoryLimit      uint64 `json:"memory_limit,omitempty"` // 0 when unlimited
	NetRxBytes       uint64 `json:"net_rx_bytes"`
	NetTxBytes       uint64 `json:"net_tx_bytes"`
	BlockReadBytes   uint64 `json:"block_read_bytes"`
	BlockWriteBytes  uint64 `json:"block_write_bytes"`
}

// StatsRuntime is the optional capability of a Runtime that reads what an
// instance uses. Metrics collection needs it; a Runtime without it gives
// no instance metrics.
type StatsRuntime interface {
	// Stats returns one sample of a running instance. ENOTFOUND when it is
	// gone.
	Stats(ctx context.Context, id string) (*ContainerStats, error)
}

// TrafficStats is what the router counted for an environment or one of its
// instances since the router started: every counter only grows, until the
// router restarts (see TrafficSnapshot.StartedAt).
type TrafficStats struct {
	// Requests counts answers by status class: "1xx" … "5xx".
	Requests map[string]uint64 `json:"requests"`
	// Buckets counts requests whose duration was at most the bound of the
	// same index in TrafficSnapshot.Bounds (cumulative, as Prometheus
	// histograms); Count and Sum cover every request, Sum in seconds.
	Buckets  []uint64 `json:"buckets"`
	Count    uint64   `json:"count"`
	Sum      float64  `json:"sum"`
	BytesIn  uint64   `json:"bytes_in"`  // request bodies
	BytesOut uint64   `json:"bytes_out"` // response bodies
	InFlight int64    `json:"in_flight"` // requests being served now
}

// EnvTraffic is the router's count for one environment, in total and per
// upstream (by instance container ID).
type EnvTraffic struct {
	Env       string                  `json:"env"` // app/env
	Total     TrafficStats            `json:"total"`
	Instances map[string]TrafficStats `json:"instances"`
}

// TrafficSnapshot is everything the router counted, at one moment.
type TrafficSnapshot struct {
	Time time.Time `json:"time"`
	// StartedAt is when the router's counters started: a later value than
	// in the previous snapshot means they started again from zero.
	StartedAt time.Time `json:"started_at"`
	// Bounds are the upper bounds, in seconds, of the latency buckets.
	Bounds []float64     `json:"bounds"`
	Envs   []*EnvTraffic `json:"envs"`
}

// RouterStats reads the router's traffic counters.
type RouterStats interface {
	// Traffic returns the router's counters. EUNAVAILABLE when the router
	// does not answer.
	Traffic(ctx context.Context) (*TrafficSnapshot, error)
}

// Rollup is one minute of an environment's metrics, for one process or,
// with Process "", for the whole environment. Rates and shares are over the
// minute; byte counts are what moved during it.
type Rollup struct {
	EnvID      int64     `json:"env_id"`
	Process    string    `json:"process"` // "" for the whole environment
	Minute     time.Time `json:"minute"`  // the minute's start, UTC
	Instances  int       `json:"instances"`
	CPUPercent float64   `json:"cpu_percent"`     // average, of one core (200 = two cores busy)
	CPUMax     float64   `json:"cpu_percent_max"` // the busiest sample
	MemoryAvg  uint64    `json:"memory_avg"`      // working set, summed over instances
	MemoryMax  uint64    `json:"memory_max"`
	NetRx      uint64    `json:"net_rx_bytes"`
	NetTx      uint64    `json:"net_tx_bytes"`
	BlockRead  uint64    `json:"block_read_bytes"`
	BlockWrite uint64    `json:"block_write_bytes"`
	Restarts   int       `json:"restarts"`
	Requests   uint64    `json:"requests"`
	Errors     uint64    `json:"errors_5xx"`
	P95        float64   `json:"p95_seconds"` // 0 without requests
}

// MetricsStore keeps minute rollups.
type MetricsStore interface {
	// SaveRollups stores rollups, replacing any of the same environment,
	// process and minute.
	SaveRollups(ctx context.Context, rollups []*Rollup) error
	// ListRollups returns an environment's rollups from since on, oldest
	// first; process "" gives the environment's own, "*" every process's.
	ListRollups(ctx context.Context, envID int64, process string, since time.Time) ([]*Rollup, error)
	// PruneRollups removes rollups of minutes before t.
	PruneRollups(ctx context.Context, before time.Time) error
	// CountDeployments returns how many deployments of each environment
	// ended in each state.
	CountDeployments(ctx context.Context) ([]DeploymentCount, error)
}

// DeploymentCount is how many deployments of an environment are in a state.
type DeploymentCount struct {
	EnvID int64  `json:"env_id"`
	State string `json:"state"`
	Count int    `json:"count"`
}
