package main

import (
	"context"
	"fmt"
	"time"

	"github.com/spf13/cobra"
)

// newAppsCommand returns `jack apps` with create, list and delete.
func newAppsCommand(c *cli) *cobra.Command {
	var asJSON bool
	list := func(ctx context.Context, cmd *cobra.Command, args []string) error {
		return c.listApps(ctx, asJSON)
	}
	cmd := &cobra.Command{
		Use:   "apps",
		Short: "List, create and delete apps",
		Args:  cobra.NoArgs,
		RunE:  c.action(list),
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the API's JSON")

	listCmd := &cobra.Command{
		Use:   "list",
		Short: "List apps",
		Args:  argsBetween(0, 0),
		RunE:  c.action(list),
	}
	listCmd.Flags().BoolVar(&asJSON, "json", false, "print the API's JSON")

	create := &cobra.Command{
		Use:   "create APP",
		Short: "Create an app",
		Args:  argsBetween(1, 1),
		RunE: c.action(func(ctx context.Context, cmd *cobra.Command, args []string) error {
			api, err := c.appClient(args[0])
			if err != nil {
				return err
			}
			app, err := api.CreateApp(ctx, args[0])
			if err != nil {
				return err
			}
			fmt.Fprintf(c.stdout, "Created app %s; add an environment with `jack envs create %s/production`\n", app.Name, app.Name)
			return nil
		}),
	}

	var yes bool
	del := &cobra.Command{
		Use:   "delete APP",
		Short: "Delete an app and its versions (its environments first)",
		Args:  argsBetween(1, 1),
		RunE: c.action(func(ctx context.Context, cmd *cobra.Command, args []string) error {
			name := args[0]
			if err := parseApp(name); err != nil {
				return err
			}
			if err := c.confirm(yes, fmt.Sprintf("Delete app %s and all its versions?", name)); err != nil {
				return err
			}
			api, err := c.client()
			if err != nil {
				return err
			}
			if err := api.DeleteApp(ctx, name); err != nil {
				return err
			}
			fmt.Fprintf(c.stdout, "Deleted app %s\n", name)
			return nil
		}),
	}
	del.Flags().BoolVar(&yes, "yes", false, "delete without asking")

	cmd.AddCommand(create, listCmd, del)
	return cmd
}

// listApps prints every app.
func (c *cli) listApps(ctx context.Context, asJSON bool) error {
	api, err := c.client()
	if err != nil {
		return err
	}
	apps, err := api.ListApps(ctx)
	if err != nil {
		return err
	}
	if asJSON {
		return printJSON(c.stdout, apps)
	}
	if len(apps) == 0 {
		fmt.Fprintln(c.stdout, "No apps yet; create one with `jack apps create APP`")
		return nil
	}
	tw := table(c.stdout)
	fmt.Fprintln(tw, "NAME\tCREATED")
	now := time.Now()
	for _, app := range apps {
		fmt.Fprintf(tw, "%s\t%s\n", app.Name, ago(now, app.CreatedAt))
	}
	return tw.Flush()
}
