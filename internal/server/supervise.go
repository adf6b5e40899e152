package server

import (
	"context"

	"github.com/jack-paas/jack/internal/router"
)

// superviseRouter restarts the router process if it dies and sends it the
// route table again.
func (m *Main) superviseRouter(ctx context.Context) {
	router.Watchdog(ctx, m.router, m.spawn, func(ctx context.Context) {
		if err := m.orch.Republish(ctx); err != nil {
			m.logger.Error("republish routes to the restarted router", "err", err)
		}
	})
}
