package main

import (
	"context"
	"log/slog"

	"github.com/spf13/cobra"

	"github.com/jack-paas/jack/internal/router"
)

func init() { register(newRouterCommand) }

// newRouterCommand is `jack router`: the HTTP edge as a process of its own.
// jack server starts it; users don't need to.
func newRouterCommand(c *cli) *cobra.Command {
	cfg := router.Config{}
	cmd := &cobra.Command{
		Use:    "router",
		Short:  "Run the HTTP router (started by jack server)",
		Hidden: true,
		Args:   argsBetween(0, 0),
		RunE: c.action(func(ctx context.Context, cmd *cobra.Command, args []string) error {
			cfg.Logger = slog.New(slog.NewTextHandler(c.stderr, nil))
			return router.Run(ctx, cfg)
		}),
	}
	cmd.Flags().StringVar(&cfg.DataDir, "data", "/var/lib/jack", "the server's data folder")
	cmd.Flags().StringVar(&cfg.HTTPAddr, "http", ":80", "address to serve HTTP on")
	return cmd
}
