package router

import (
	"context"
	"fmt"
	"time"

	"github.com/jack-paas/jack"
)

// Drain waits until the given upstreams, already out of the table, have no
// request in flight; it returns as soon as the last one ends. At timeout it
// cancels the requests still running and returns how many there were. An
// unknown ID has nothing in flight.
func (p *Proxy) Drain(ctx context.Context, ids []string, timeout time.Duration) (jack.DrainResult, error) {
	states := make([]*upstreamState, 0, len(ids))
	for _, id := range ids {
		if u := p.registry.lookup(id); u != nil {
			states = append(states, u)
		}
	}
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for _, u := range states {
		for {
			idle := u.idleChan()
			if idle == nil {
				break
			}
			select {
			case <-idle:
			case <-deadline.C:
				return p.cutDrain(states), nil
			case <-ctx.Done():
				return jack.DrainResult{Remaining: countInFlight(states)}, fmt.Errorf("drain upstreams: %w", ctx.Err())
			}
		}
	}
	return jack.DrainResult{}, nil
}

// cutDrain cancels what is still in flight to states at a drain's timeout.
func (p *Proxy) cutDrain(states []*upstreamState) jack.DrainResult {
	remaining := 0
	for _, u := range states {
		if n := u.cancelAll(errDrainTimeout); n > 0 {
			p.logger.Warn("drain timed out; cutting requests", "upstream", u.id, "requests", n)
			remaining += n
		}
	}
	return jack.DrainResult{Remaining: remaining}
}

func countInFlight(states []*upstreamState) int {
	n := 0
	for _, u := range states {
		n += int(u.inflight.Load())
	}
	return n
}
