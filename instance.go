package jack

import "time"

// Instance states, as `jack ps` shows them.
const (
	InstanceStarting  = "starting"  // created, not yet healthy
	InstanceHealthy   = "healthy"   // passed its health check; routed if web
	InstanceUnhealthy = "unhealthy" // running but failing its health check; not routed
	InstanceDraining  = "draining"  // out of rotation, finishing in-flight requests
	InstanceStopping  = "stopping"  // sent SIGTERM
	InstanceExited    = "exited"    // not running; about to be replaced or removed
)

// Instance is one container running one process of one release.
type Instance struct {
	ID        string    `json:"id"`   // the container's ID
	Name      string    `json:"name"` // process.slot, e.g. web.2
	Process   string    `json:"process"`
	Slot      int       `json:"slot"`
	Release   int       `json:"release"` // the release it was started for
	Version   string    `json:"version"`
	Address   string    `json:"address"` // host:port the router and health checks reach
	State     string    `json:"state"`
	ExitCode  int       `json:"exit_code,omitempty"`
	Restarts  int       `json:"restarts"`
	StartedAt time.Time `json:"started_at"`
	// LastCheck is the time of the last health check and its outcome.
	LastCheck      time.Time `json:"last_check,omitempty"`
	LastCheckError string    `json:"last_check_error,omitempty"`
	// CheckLatency is how long the last health check took; CheckFailures
	// how many checks in a row have failed.
	CheckLatency  time.Duration `json:"check_latency,omitempty"`
	CheckFailures int           `json:"check_failures,omitempty"`
	// RestartsTotal counts the deaths of this slot's instances (kept
	// across restarts of the daemon, see SlotDeaths), RecentRestarts those
	// of the last 10 minutes, and LastExit says why the last one died.
	RestartsTotal  int    `json:"restarts_total,omitempty"`
	RecentRestarts int    `json:"recent_restarts,omitempty"`
	LastExit       string `json:"last_exit,omitempty"`
}

// SlotDeaths is the record of the deaths of the instances of one slot of
// an environment (web.1 and the instances that replaced it), for its
// restart counts. The daemon stores it at each death, so that a crash loop
// is still seen as one after the daemon restarts.
type SlotDeaths struct {
	Name     string      `json:"name"`      // process.slot
	Total    int         `json:"total"`     // deaths since the slot was first used
	Recent   []time.Time `json:"recent"`    // the times of the latest deaths
	LastExit string      `json:"last_exit"` // why the last one died
}
