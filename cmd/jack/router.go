package main

import (
	"context"
	"log/slog"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/jack-paas/jack/internal/router"
)

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
	addTLSFlags(cmd.Flags(), &cfg.HTTPSAddr, &cfg.ACME)
	cmd.Flags().BoolVar(&cfg.Handoff, "handoff", false, "take the listening sockets of the router running on --data")
	return cmd
}

// addTLSFlags adds the HTTPS flags that jack server passes on to jack
// router.
func addTLSFlags(f *pflag.FlagSet, httpsAddr *string, acme *router.ACMEConfig) {
	f.StringVar(httpsAddr, "https", "", "address the router serves HTTPS on, e.g. :443 (default: no HTTPS)")
	f.StringVar(&acme.DirectoryURL, "acme-ca", "", "ACME directory URL for automatic certificates (default Let's Encrypt; \"off\" for none)")
	f.StringVar(&acme.Email, "acme-email", "", "contact address given to the ACME CA")
	f.StringVar(&acme.CACertFile, "acme-ca-cert", "", "PEM root the ACME server's own certificate chains to (a private CA)")
	f.DurationVar(&acme.RenewBefore, "acme-renew-before", 0, "renew certificates this long before they expire (default a third of their life, at most 30 days)")
}
