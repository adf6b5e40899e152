package router

import (
	"context"
	"time"
)

// Watchdog checks through client every cfg.CheckInterval that the router
// answers and, when it does not, starts a new one as Ensure does and calls
// onRestart, so the daemon can send it the route table again (the new
// router serves the table saved on disk meanwhile). client keeps working
// with the new router: it dials the socket for each connection. Watchdog
// returns when ctx is done.
func Watchdog(ctx context.Context, client *Client, cfg SpawnConfig, onRestart func(context.Context)) {
	logger := cfg.logger()
	interval := cfg.CheckInterval
	if interval <= 0 {
		interval = time.Second
	}
	ticker := time.NewTicker(interval)
	defer ticker.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-ticker.C:
		}
		_, err := statusWithin(ctx, client, statusTimeout)
		if err == nil || ctx.Err() != nil {
			continue
		}
		logger.Warn("the router does not answer; starting a new one", "err", err)
		restarted, spawned, err := ensure(ctx, cfg)
		if err != nil {
			logger.Error("could not restart the router; trying again", "err", err, "in", interval)
			continue
		}
		restarted.Close()
		client.Close() // its pooled connections went to the dead router
		if spawned && onRestart != nil {
			onRestart(ctx)
		}
	}
}
