package main

import (
	"context"
	"fmt"
	"time"

	"github.com/jack-paas/jack"
	"github.com/spf13/cobra"
)

// newPsCommand returns `jack ps APP/ENV`.
func newPsCommand(c *cli) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "ps APP/ENV",
		Short: "List an environment's instances",
		Args:  argsBetween(1, 1),
		RunE: c.action(func(ctx context.Context, cmd *cobra.Command, args []string) error {
			api, app, env, err := c.envClient(args[0])
			if err != nil {
				return err
			}
			instances, err := api.Instances(ctx, app, env)
			if err != nil {
				return err
			}
			if asJSON {
				return printJSON(c.stdout, instances)
			}
			if len(instances) == 0 {
				fmt.Fprintf(c.stdout, "No instances of %s/%s run\n", app, env)
				return nil
			}
			tw := table(c.stdout)
			fmt.Fprintln(tw, "NAME\tSTATE\tRELEASE\tVERSION\tADDRESS\tUP\tRESTARTS")
			now := time.Now()
			for _, in := range instances {
				fmt.Fprintf(tw, "%s\t%s\t%d\t%s\t%s\t%s\t%d\n", in.Name, in.State, in.Release, in.Version, dash(in.Address), uptime(now, in), in.Restarts)
			}
			return tw.Flush()
		}),
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the API's JSON")
	return cmd
}

// uptime returns how long an instance has run, "-" when it does not.
func uptime(now time.Time, in *jack.Instance) string {
	if in.State == jack.InstanceExited || in.StartedAt.IsZero() {
		return "-"
	}
	return human(now.Sub(in.StartedAt))
}
