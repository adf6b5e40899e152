package main

import (
	"context"
	"fmt"
	"strings"

	"github.com/jack-paas/jack"
	"github.com/jack-paas/jack/client"
	"github.com/spf13/cobra"
)

// newEnvsCommand returns `jack envs` with create, list and delete.
func newEnvsCommand(c *cli) *cobra.Command {
	var asJSON bool
	list := func(ctx context.Context, cmd *cobra.Command, args []string) error {
		app := ""
		if len(args) == 1 {
			app = args[0]
			if err := jack.ValidateName("app", app); err != nil {
				return usageErrorf("%s", jack.ErrorMessage(err))
			}
		}
		return c.listEnvs(ctx, app, asJSON)
	}
	cmd := &cobra.Command{
		Use:   "envs [APP]",
		Short: "List, create and delete environments",
		Args:  argsBetween(0, 1),
		RunE:  c.action(list),
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the API's JSON")

	listCmd := &cobra.Command{
		Use:   "list [APP]",
		Short: "List the environments of an app, or of every app",
		Args:  argsBetween(0, 1),
		RunE:  c.action(list),
	}
	listCmd.Flags().BoolVar(&asJSON, "json", false, "print the API's JSON")

	cmd.AddCommand(newEnvsCreateCommand(c), listCmd, newEnvsDeleteCommand(c), newEnvsSwapCommand(c), newEnvsSetCommand(c))
	return cmd
}

// newEnvsCreateCommand returns `jack envs create APP/ENV`.
func newEnvsCreateCommand(c *cli) *cobra.Command {
	var req client.CreateEnvRequest
	var edge edgeFlags
	cmd := &cobra.Command{
		Use:   "create APP/ENV",
		Short: "Create an environment",
		Args:  argsBetween(1, 1),
		RunE: c.action(func(ctx context.Context, cmd *cobra.Command, args []string) error {
			app, env, err := parseRef(args[0])
			if err != nil {
				return err
			}
			req.Name = env
			if req.Tier != jack.TierWeb && req.Tier != jack.TierWorker {
				return usageErrorf("--tier %q is not known; use web or worker", req.Tier)
			}
			if req.Strategy != "" {
				if err := jack.ValidateStrategy(req.Strategy); err != nil {
					return usageErrorf("%s", jack.ErrorMessage(err))
				}
			}
			for _, d := range req.Domains {
				if err := jack.ValidateDomain(d); err != nil {
					return usageErrorf("%s", jack.ErrorMessage(err))
				}
			}
			if req.Edge, err = edge.change(cmd); err != nil {
				return err
			}
			api, err := c.client()
			if err != nil {
				return err
			}
			e, err := api.CreateEnv(ctx, app, req)
			if err != nil {
				return err
			}
			fmt.Fprintf(c.stdout, "Created environment %s", e.Ref())
			if e.URL != "" {
				fmt.Fprintf(c.stdout, "; it will answer at %s", e.URL)
			}
			if !req.Edge.Empty() {
				fmt.Fprintf(c.stdout, "\n%s", edgeWords(e.Edge))
			}
			fmt.Fprintf(c.stdout, "\nDeploy to it with `jack deploy %s --image REF`\n", e.Ref())
			return nil
		}),
	}
	cmd.Flags().StringVar(&req.Tier, "tier", jack.TierWeb, "web (gets HTTP traffic) or worker")
	cmd.Flags().StringArrayVar(&req.Domains, "domain", nil, "a host name it answers to, besides its default URL (repeatable)")
	cmd.Flags().StringVar(&req.Strategy, "strategy", "", "deploy strategy: rolling, immutable or all-at-once (default: the manifest's)")
	edge.register(cmd)
	return cmd
}

// newEnvsDeleteCommand returns `jack envs delete APP/ENV`.
func newEnvsDeleteCommand(c *cli) *cobra.Command {
	var yes, volumes bool
	cmd := &cobra.Command{
		Use:   "delete APP/ENV",
		Short: "Stop an environment's instances and delete it with its releases",
		Args:  argsBetween(1, 1),
		RunE: c.action(func(ctx context.Context, cmd *cobra.Command, args []string) error {
			app, env, err := parseRef(args[0])
			if err != nil {
				return err
			}
			question := fmt.Sprintf("Delete environment %s/%s, stopping its instances?", app, env)
			if volumes {
				question = fmt.Sprintf("Delete environment %s/%s, stopping its instances and removing its volumes with their data?", app, env)
			}
			if err := c.confirm(yes, question); err != nil {
				return err
			}
			api, err := c.client()
			if err != nil {
				return err
			}
			if volumes {
				err = api.DeleteEnvVolumes(ctx, app, env)
			} else {
				err = api.DeleteEnv(ctx, app, env)
			}
			if err != nil {
				return err
			}
			fmt.Fprintf(c.stdout, "Deleted environment %s/%s", app, env)
			if volumes {
				fmt.Fprint(c.stdout, " and its volumes")
			}
			fmt.Fprintln(c.stdout)
			return nil
		}),
	}
	cmd.Flags().BoolVar(&yes, "yes", false, "delete without asking")
	cmd.Flags().BoolVar(&volumes, "volumes", false, "also remove its volumes (kept otherwise)")
	return cmd
}

// listEnvs prints the environments of app, or of every app.
func (c *cli) listEnvs(ctx context.Context, app string, asJSON bool) error {
	api, err := c.client()
	if err != nil {
		return err
	}
	envs, err := api.ListEnvs(ctx, app)
	if err != nil {
		return err
	}
	if asJSON {
		return printJSON(c.stdout, envs)
	}
	if len(envs) == 0 {
		fmt.Fprintln(c.stdout, "No environments yet; create one with `jack envs create APP/ENV`")
		return nil
	}
	tw := table(c.stdout)
	fmt.Fprintln(tw, "ENVIRONMENT\tTIER\tRELEASE\tURL\tDOMAINS")
	for _, e := range envs {
		release := "-"
		if e.Release > 0 {
			release = fmt.Sprint(e.Release)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", e.Ref(), e.Tier, release, dash(e.URL), dash(strings.Join(e.Domains, ",")))
	}
	return tw.Flush()
}
