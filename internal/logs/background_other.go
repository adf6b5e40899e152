//go:build !linux

package logs

// atLowPriority runs fn; only Linux lowers its priority.
func atLowPriority(fn func()) { fn() }
