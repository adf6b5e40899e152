package main

import (
	"context"
	"fmt"
	"time"

	"github.com/spf13/cobra"
)

// newReleasesCommand returns `jack releases APP/ENV`.
func newReleasesCommand(c *cli) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "releases APP/ENV",
		Short: "List an environment's releases, newest first",
		Args:  argsBetween(1, 1),
		RunE: c.action(func(ctx context.Context, cmd *cobra.Command, args []string) error {
			api, app, env, err := c.envClient(args[0])
			if err != nil {
				return err
			}
			releases, err := api.ListReleases(ctx, app, env)
			if err != nil {
				return err
			}
			if asJSON {
				return printJSON(c.stdout, releases)
			}
			if len(releases) == 0 {
				fmt.Fprintf(c.stdout, "No releases of %s/%s yet; deploy to make one\n", app, env)
				return nil
			}
			e, err := api.FindEnv(ctx, app, env)
			if err != nil {
				return err
			}
			tw := table(c.stdout)
			fmt.Fprintln(tw, "RELEASE\tVERSION\tSTATE\tDESCRIPTION\tCREATED")
			now := time.Now()
			for _, r := range releases {
				number := fmt.Sprint(r.Number)
				if r.Number == e.Release {
					number += " *" // the one that serves
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", number, r.Version, dash(r.State), r.Description, ago(now, r.CreatedAt))
			}
			return tw.Flush()
		}),
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the API's JSON")
	return cmd
}
