// Package wait pauses a goroutine for a while unless its work is called
// off: the one sleep of Jack's loops that retry, poll or back off, so that
// a cancelled context ends them at once instead of after the pause.
package wait

import (
	"context"
	"time"
)

// Sleep waits for d and reports whether ctx is still live: false as soon
// as ctx ends, so that the caller stops instead of going round again.
func Sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
