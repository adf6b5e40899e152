package main

import (
	"context"

	"github.com/jack-paas/jack"
	"github.com/spf13/cobra"
)

// newRollbackCommand returns `jack rollback APP/ENV [--to RELEASE]`.
func newRollbackCommand(c *cli) *cobra.Command {
	var (
		to      int
		wait    waitFlags
		release jack.ReleaseOptions
	)
	cmd := &cobra.Command{
		Use:   "rollback APP/ENV [--to RELEASE]",
		Short: "Deploy an earlier release again, as a new release",
		Args:  argsBetween(1, 1),
		RunE: c.action(func(ctx context.Context, cmd *cobra.Command, args []string) error {
			app, env, err := parseRef(args[0])
			if err != nil {
				return err
			}
			if to < 0 {
				return usageErrorf("--to %d is not a release number", to)
			}
			if err := release.Validate(); err != nil {
				return usageErrorf("%s", jack.ErrorMessage(err))
			}
			api, err := c.client()
			if err != nil {
				return err
			}
			d, err := api.Rollback(ctx, app, env, to, release)
			if err != nil {
				return err
			}
			return c.finish(ctx, api, d, app, env, wait)
		}),
	}
	cmd.Flags().IntVar(&to, "to", 0, "release to roll back to (default: the one that served before the current one)")
	cmd.Flags().BoolVar(&wait.noWait, "no-wait", false, "print the deployment's ID and return at once")
	cmd.Flags().BoolVar(&release.Skip, "skip-release", false, "do not run the release command, even if the version changes")
	cmd.Flags().BoolVar(&release.Force, "force-release", false, "run the release command, even if the version does not change")
	return cmd
}
