package main

import (
	"context"
	"fmt"
	"time"

	"github.com/jack-paas/jack"
	"github.com/spf13/cobra"
)

// newVersionsCommand returns `jack versions APP`.
func newVersionsCommand(c *cli) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "versions APP",
		Short: "List an app's versions, newest first",
		Args:  argsBetween(1, 1),
		RunE: c.action(func(ctx context.Context, cmd *cobra.Command, args []string) error {
			api, err := c.appClient(args[0])
			if err != nil {
				return err
			}
			versions, err := api.ListVersions(ctx, args[0])
			if err != nil {
				return err
			}
			if asJSON {
				return printJSON(c.stdout, versions)
			}
			if len(versions) == 0 {
				fmt.Fprintf(c.stdout, "No versions of %s yet; deploy an image to make one\n", args[0])
				return nil
			}
			tw := table(c.stdout)
			fmt.Fprintln(tw, "VERSION\tIMAGE\tIMAGE ID\tMANIFEST\tCREATED")
			now := time.Now()
			for _, v := range versions {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", v.Label, v.Image, dash(jack.ShortID(v.ImageID)), dash(v.Source), ago(now, v.CreatedAt))
			}
			return tw.Flush()
		}),
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the API's JSON")
	return cmd
}
