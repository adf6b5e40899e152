package main

import (
	"context"
	"fmt"

	"github.com/jack-paas/jack"
	"github.com/spf13/cobra"
)

// newVersionCommand returns `jack version`: the client's version and the
// server's.
func newVersionCommand(c *cli) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "version",
		Short: "Print the versions of this client and of the server",
		Args:  argsBetween(0, 0),
		RunE: c.action(func(ctx context.Context, cmd *cobra.Command, args []string) error {
			t, err := c.target()
			if err != nil {
				return err
			}
			api, err := c.client()
			if err != nil {
				return err
			}
			health, err := api.Health(ctx)
			if asJSON {
				out := map[string]string{"client": jack.BuildVersion, "api": t.API}
				if err == nil {
					out["server"] = health.Version
				}
				if jsonErr := printJSON(c.stdout, out); jsonErr != nil {
					return jsonErr
				}
				return err
			}
			fmt.Fprintf(c.stdout, "client: %s\n", jack.BuildVersion)
			if err != nil {
				return err
			}
			fmt.Fprintf(c.stdout, "server: %s (%s)\n", health.Version, t.API)
			return nil
		}),
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print as JSON")
	return cmd
}
