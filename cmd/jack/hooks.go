package main

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/jack-paas/jack"
	"github.com/jack-paas/jack/client"
	"github.com/spf13/cobra"
)

// newHooksCommand returns `jack hooks add|list|remove|deliveries`.
func newHooksCommand(c *cli) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "hooks",
		Short: "Manage an environment's webhooks (deploy and health notifications)",
		Long: `Webhooks are told when a deployment starts, succeeds, fails or is rolled
back, and when the environment's health changes. Each gets a JSON POST with
Slack-compatible "text", signed in the X-Jack-Signature-256 header
("sha256=" + hex HMAC-SHA256 of the body under the hook's secret), and is
retried with back-off until the receiver answers 2xx.`,
		Args: argsBetween(0, 0),
		RunE: func(cmd *cobra.Command, args []string) error {
			return usageErrorf("give a subcommand: add, list, remove or deliveries")
		},
	}
	cmd.AddCommand(newHooksAdd(c), newHooksList(c), newHooksRemove(c), newHooksDeliveries(c))
	return cmd
}

func newHooksAdd(c *cli) *cobra.Command {
	var secret string
	cmd := &cobra.Command{
		Use:   "add APP/ENV URL",
		Short: "Add a webhook; prints its secret once",
		Args:  argsBetween(2, 2),
		RunE: c.action(func(ctx context.Context, cmd *cobra.Command, args []string) error {
			if err := jack.ValidateHookURL(args[1]); err != nil {
				return usageErrorf("%s", jack.ErrorMessage(err))
			}
			api, app, env, err := c.envClient(args[0])
			if err != nil {
				return err
			}
			h, err := api.AddHook(ctx, app, env, client.AddHookRequest{URL: args[1], Secret: secret})
			if err != nil {
				return err
			}
			fmt.Fprintf(c.stdout, "Webhook %d added to %s/%s: %s\n", h.ID, app, env, h.URL)
			fmt.Fprintf(c.stdout, "Secret (shown once; check X-Jack-Signature-256 with it): %s\n", h.Secret)
			return nil
		}),
	}
	cmd.Flags().StringVar(&secret, "secret", "", "secret that signs deliveries (default: a new random one)")
	return cmd
}

func newHooksList(c *cli) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "list APP/ENV",
		Short: "List an environment's webhooks and how their last delivery went",
		Args:  argsBetween(1, 1),
		RunE: c.action(func(ctx context.Context, cmd *cobra.Command, args []string) error {
			api, app, env, err := c.envClient(args[0])
			if err != nil {
				return err
			}
			hooks, err := api.ListHooks(ctx, app, env)
			if err != nil {
				return err
			}
			if asJSON {
				return printJSON(c.stdout, hooks)
			}
			if len(hooks) == 0 {
				fmt.Fprintf(c.stdout, "No webhooks on %s/%s; add one with `jack hooks add %s/%s URL`\n", app, env, app, env)
				return nil
			}
			now := time.Now()
			tw := table(c.stdout)
			fmt.Fprintln(tw, "ID\tURL\tLAST DELIVERY")
			for _, h := range hooks {
				fmt.Fprintf(tw, "%d\t%s\t%s\n", h.ID, h.URL, deliverySummary(now, h.LastDelivery))
			}
			return tw.Flush()
		}),
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the API's JSON")
	return cmd
}

func newHooksRemove(c *cli) *cobra.Command {
	return &cobra.Command{
		Use:   "remove APP/ENV URL|ID",
		Short: "Remove a webhook, named by its URL or ID",
		Args:  argsBetween(2, 2),
		RunE: c.action(func(ctx context.Context, cmd *cobra.Command, args []string) error {
			api, app, env, err := c.envClient(args[0])
			if err != nil {
				return err
			}
			id, err := strconv.ParseInt(args[1], 10, 64)
			if err != nil {
				hooks, err := api.ListHooks(ctx, app, env)
				if err != nil {
					return err
				}
				for _, h := range hooks {
					if h.URL == args[1] {
						id = h.ID
					}
				}
				if id == 0 {
					return jack.Errorf(jack.ENOTFOUND, "%s/%s has no webhook to %s; see `jack hooks list %s/%s`", app, env, args[1], app, env)
				}
			}
			if err := api.RemoveHook(ctx, app, env, id); err != nil {
				return err
			}
			fmt.Fprintf(c.stdout, "Webhook %d removed from %s/%s\n", id, app, env)
			return nil
		}),
	}
}

func newHooksDeliveries(c *cli) *cobra.Command {
	var asJSON bool
	var limit int
	cmd := &cobra.Command{
		Use:   "deliveries APP/ENV",
		Short: "Show the latest deliveries of an environment's webhooks",
		Args:  argsBetween(1, 1),
		RunE: c.action(func(ctx context.Context, cmd *cobra.Command, args []string) error {
			if limit < 1 {
				return usageErrorf("-n %d is not a positive count", limit)
			}
			api, app, env, err := c.envClient(args[0])
			if err != nil {
				return err
			}
			list, err := api.ListDeliveries(ctx, app, env, limit)
			if err != nil {
				return err
			}
			if asJSON {
				return printJSON(c.stdout, list)
			}
			if len(list) == 0 {
				fmt.Fprintf(c.stdout, "No deliveries yet for %s/%s\n", app, env)
				return nil
			}
			now := time.Now()
			tw := table(c.stdout)
			fmt.Fprintln(tw, "ID\tTIME\tEVENT\tURL\tRESULT")
			for _, d := range list {
				fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\n", d.ID, timestamp(d.CreatedAt), d.Event, d.URL, deliverySummary(now, d))
			}
			return tw.Flush()
		}),
	}
	f := cmd.Flags()
	f.BoolVar(&asJSON, "json", false, "print the API's JSON")
	f.IntVarP(&limit, "n", "n", 20, "how many deliveries")
	return cmd
}

// deliverySummary says how a delivery went, in a few words.
func deliverySummary(now time.Time, d *jack.Delivery) string {
	if d == nil {
		return "none yet"
	}
	tries := "1 attempt"
	if d.Attempts != 1 {
		tries = fmt.Sprintf("%d attempts", d.Attempts)
	}
	switch d.State {
	case jack.DeliveryDelivered:
		return fmt.Sprintf("%s: delivered (%d) after %s", d.Event, d.StatusCode, tries)
	case jack.DeliveryFailed:
		return fmt.Sprintf("%s: failed after %s: %s", d.Event, tries, d.Error)
	}
	if d.Attempts == 0 {
		return d.Event + ": sending"
	}
	return fmt.Sprintf("%s: retrying in %s (%s so far: %s)", d.Event, human(d.NextAttempt.Sub(now)), tries, d.Error)
}
