package main

import (
	"context"
	"log/slog"

	"github.com/spf13/cobra"

	"github.com/jack-paas/jack/internal/router"
)

// newRouterCommand is `jack router`: the HTTP edge as a process of its own.
// jack server starts it; users don't need to. It serves until SIGINT or
// SIGTERM, a shutdown over its control socket, or a new router taking its
// sockets, then finishes the requests in flight.
func newRouterCommand(c *cli) *cobra.Command {
	cfg := router.Config{}
	cmd := &cobra.Command{
		Use:    "router",
		Short:  "Run the HTTP router (started by jack server)",
		Hidden: true,
		Args:   argsBetween(0, 0),
		RunE: c.action(func(ctx context.Context, cmd *cobra.Command, args []string) error {
			cfg.Logger = slog.New(slog.NewTextHandler(c.stderr, nil))
			m := router.New(cfg)
			if err := m.Run(ctx); err != nil {
				return err
			}
			<-m.Done()
			return m.Close()
		}),
	}
	cfg.AddFlags(cmd.Flags())
	return cmd
}
