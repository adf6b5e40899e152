package main

import (
	"context"

	"github.com/jack-paas/jack"
	"github.com/spf13/cobra"
)

// newRestartCommand returns `jack restart APP/ENV [PROCESS]`.
func newRestartCommand(c *cli) *cobra.Command {
	var wait waitFlags
	cmd := &cobra.Command{
		Use:   "restart APP/ENV [PROCESS]",
		Short: "Replace every instance (of one process) with a fresh one, without downtime",
		Args:  argsBetween(1, 2),
		RunE: c.action(func(ctx context.Context, cmd *cobra.Command, args []string) error {
			app, env, err := parseRef(args[0])
			if err != nil {
				return err
			}
			process := ""
			if len(args) == 2 {
				process = args[1]
				if err := jack.ValidateName("process", process); err != nil {
					return usageErrorf("%s", jack.ErrorMessage(err))
				}
			}
			api, err := c.client()
			if err != nil {
				return err
			}
			d, err := api.Restart(ctx, app, env, process)
			if err != nil {
				return err
			}
			return c.finish(ctx, api, d, app, env, wait)
		}),
	}
	cmd.Flags().BoolVar(&wait.noWait, "no-wait", false, "print the deployment's ID and return at once")
	return cmd
}
