package jack

import (
	"context"
	"time"
)

// Health states of an environment, from best to worst; Pending and Unknown
// stand apart. See docs/health.md for the rules.
const (
	HealthOK       = "ok"
	HealthWarning  = "warning"
	HealthDegraded = "degraded"
	HealthSevere   = "severe"
	HealthPending  = "pending" // a deployment is running
	HealthUnknown  = "unknown" // nothing deployed, or no data yet
)

// HealthStates lists every state, in the order jack_environment_health
// labels them.
var HealthStates = []string{HealthOK, HealthWarning, HealthDegraded, HealthSevere, HealthPending, HealthUnknown}

// HealthRank orders states by how bad they are: ok 0, warning 1, degraded
// 2, severe 3; pending and unknown rank -1.
func HealthRank(state string) int {
	switch state {
	case HealthOK:
		return 0
	case HealthWarning:
		return 1
	case HealthDegraded:
		return 2
	case HealthSevere:
		return 3
	}
	return -1
}

// Health is an environment's health with its causes in words, and the
// numbers it was judged on.
type Health struct {
	Env    string   `json:"env"` // app/env
	State  string   `json:"state"`
	Causes []string `json:"causes"`
	// Since is when the environment entered State; Evaluated when it was
	// last judged.
	Since     time.Time `json:"since"`
	Evaluated time.Time `json:"evaluated"`
	// Requests, ErrorShare (of 5xx, 0..1) and P95 (seconds) are over the
	// last minute, as the router saw them.
	Requests   uint64            `json:"requests"`
	ErrorShare float64           `json:"error_share"`
	P95        float64           `json:"p95_seconds"`
	Instances  []*InstanceHealth `json:"instances"`
}

// InstanceHealth is one instance as `jack health` shows it.
type InstanceHealth struct {
	ID        string    `json:"id"`
	Name      string    `json:"name"`
	Process   string    `json:"process"`
	State     string    `json:"state"`
	Restarts  int       `json:"restarts"`
	LastCheck time.Time `json:"last_check,omitempty"`
	// CheckLatency is how long the last health check took.
	CheckLatency  time.Duration `json:"check_latency,omitempty"`
	CheckError    string        `json:"check_error,omitempty"`
	CheckFailures int           `json:"check_failures,omitempty"`
	Requests      uint64        `json:"requests"`    // in the last minute
	ErrorShare    float64       `json:"error_share"` // of 5xx in the last minute
	P95           float64       `json:"p95_seconds"`
	CPUPercent    float64       `json:"cpu_percent"` // of one core, over the last sample interval
	CPULimit      float64       `json:"cpu_limit,omitempty"`
	MemoryWorking uint64        `json:"memory_working_set"`
	MemoryLimit   uint64        `json:"memory_limit,omitempty"`
	SampledAt     time.Time     `json:"sampled_at,omitempty"`
}

// HealthService reports environments' health.
type HealthService interface {
	// Health returns an environment's health as last evaluated. ENOTFOUND
	// if the environment does not exist.
	Health(ctx context.Context, app, env string) (*Health, error)
}
