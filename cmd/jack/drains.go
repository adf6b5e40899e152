package main

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/jack-paas/jack"
	"github.com/jack-paas/jack/internal/logs/drain"
	"github.com/spf13/cobra"
)

// newDrainsCommand returns `jack drains add|list|remove APP/ENV [URL]`.
func newDrainsCommand(c *cli) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "drains",
		Short: "Forward an environment's logs to syslog or HTTPS endpoints",
		Long: `Forward an environment's logs, as they are written, to endpoints:

  syslog://HOST[:514]       RFC 5424 over UDP
  syslog+tcp://HOST[:514]   RFC 5424 over TCP, octet-counted
  syslog+tls://HOST[:6514]  the same over TLS
  https://[USER:PASS@]HOST/PATH   batches of NDJSON, one record per line

Each drain has its own queue on disk: a slow or dead endpoint delays
nothing else, and loses nothing until its queue holds 100 MiB; past that
its oldest lines go, and an event (jack events) says how many.`,
		Args: cobra.NoArgs,
	}
	cmd.AddCommand(newDrainsAddCommand(c), newDrainsListCommand(c), newDrainsRemoveCommand(c))
	return cmd
}

// newDrainsAddCommand returns `jack drains add APP/ENV URL`.
func newDrainsAddCommand(c *cli) *cobra.Command {
	return &cobra.Command{
		Use:   "add APP/ENV URL",
		Short: "Forward an environment's new log lines to URL",
		Args:  argsBetween(2, 2),
		RunE: c.action(func(ctx context.Context, cmd *cobra.Command, args []string) error {
			app, env, err := parseRef(args[0])
			if err != nil {
				return err
			}
			if _, err := drain.Parse(args[1]); err != nil {
				return usageErrorf("%s", jack.ErrorMessage(err))
			}
			api, err := c.client()
			if err != nil {
				return err
			}
			d, err := api.AddDrain(ctx, app, env, args[1])
			if err != nil {
				return err
			}
			fmt.Fprintf(c.stdout, "Added drain %s to %s/%s; it gets every line from now on\n", d.URL, app, env)
			return nil
		}),
	}
}

// newDrainsListCommand returns `jack drains list APP/ENV [--json]`.
func newDrainsListCommand(c *cli) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "list APP/ENV",
		Short: "List an environment's drains and how each is doing",
		Args:  argsBetween(1, 1),
		RunE: c.action(func(ctx context.Context, cmd *cobra.Command, args []string) error {
			api, app, env, err := c.envClient(args[0])
			if err != nil {
				return err
			}
			drains, err := api.Drains(ctx, app, env)
			if err != nil {
				return err
			}
			if asJSON {
				return printJSON(c.stdout, drains)
			}
			if len(drains) == 0 {
				fmt.Fprintf(c.stdout, "%s/%s has no drains; add one with `jack drains add %s/%s URL`\n", app, env, app, env)
				return nil
			}
			return printDrains(c.stdout, drains)
		}),
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the API's JSON")
	return cmd
}

// printDrains prints drains as a table: where each sends, how much it has
// sent, queued and dropped, and since when it fails, if it does.
func printDrains(w io.Writer, drains []*jack.DrainStatus) error {
	tw := table(w)
	fmt.Fprintln(tw, "URL\tSENT\tQUEUED\tDROPPED\tSTATE")
	now := time.Now()
	for _, d := range drains {
		state := "ok"
		if d.LastError != "" {
			state = fmt.Sprintf("failing for %s: %s", human(now.Sub(d.FailingAt)), d.LastError)
		}
		fmt.Fprintf(tw, "%s\t%d\t%s\t%d\t%s\n", d.URL, d.Sent, bytesHuman(d.Pending), d.Dropped, state)
	}
	return tw.Flush()
}

// newDrainsRemoveCommand returns `jack drains remove APP/ENV URL`.
func newDrainsRemoveCommand(c *cli) *cobra.Command {
	return &cobra.Command{
		Use:   "remove APP/ENV URL",
		Short: "Stop forwarding to a drain and remove it",
		Args:  argsBetween(2, 2),
		RunE: c.action(func(ctx context.Context, cmd *cobra.Command, args []string) error {
			api, app, env, err := c.envClient(args[0])
			if err != nil {
				return err
			}
			if err := api.RemoveDrain(ctx, app, env, args[1]); err != nil {
				return err
			}
			fmt.Fprintf(c.stdout, "Removed drain %s from %s/%s\n", args[1], app, env)
			return nil
		}),
	}
}
