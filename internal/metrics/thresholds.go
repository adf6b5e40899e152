package metrics

import (
	"strconv"
	"strings"
	"time"

	jack "github.com/jack-paas/jack"
)

// Thresholds are the settable limits of the health rules.
type Thresholds struct {
	// P95 is the latency above which the 95th percentile of the last
	// minute gives a warning (degraded above twice as much).
	P95 time.Duration
	// CPU and Memory are the shares (0..1) of an instance's limit above
	// which it is "near its limit".
	CPU, Memory float64
}

// DefaultThresholds are the limits `jack server` starts with.
var DefaultThresholds = Thresholds{P95: 2 * time.Second, CPU: 0.9, Memory: 0.9}

// Shares of 5xx answers in the last minute that make an environment
// warning, degraded and severe.
const (
	errorWarning  = 0.01
	errorDegraded = 0.10
	errorSevere   = 0.25
)

// Restarts of one slot in the last 10 minutes that make it "restarting
// repeatedly" (degraded); fewer give a warning.
const crashLoopRestarts = 3

// ParsePercent reads a threshold given as a percentage ("90" or "90%")
// for the flag named flag, and returns it as a share.
func ParsePercent(flag, s string) (float64, error) {
	v, err := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(s), "%"), 64)
	if err != nil || v <= 0 || v > 100 {
		return 0, jack.Errorf(jack.EINVALID, "%s %q is not a percentage; give a number from 1 to 100, such as 90", flag, s)
	}
	return v / 100, nil
}

// ParseLatency reads a latency threshold for the flag named flag.
func ParseLatency(flag, s string) (time.Duration, error) {
	d, err := time.ParseDuration(strings.TrimSpace(s))
	if err != nil || d <= 0 {
		if n, nerr := strconv.ParseFloat(s, 64); nerr == nil && n > 0 {
			return 0, jack.Errorf(jack.EINVALID, "%s %q has no unit; give a duration such as %gms or %gs", flag, s, n, n)
		}
		return 0, jack.Errorf(jack.EINVALID, "%s %q is not a duration; give one such as 500ms or 2s", flag, s)
	}
	return d, nil
}
