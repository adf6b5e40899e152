package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/jack-paas/jack"
	"github.com/spf13/cobra"
)

// newEventsCommand returns `jack events APP/ENV [-f]`.
func newEventsCommand(c *cli) *cobra.Command {
	var asJSON, follow bool
	cmd := &cobra.Command{
		Use:   "events APP/ENV [-f]",
		Short: "Show what happened to an environment: deploys, instances, config changes",
		Args:  argsBetween(1, 1),
		RunE: c.action(func(ctx context.Context, cmd *cobra.Command, args []string) error {
			api, app, env, err := c.envClient(args[0])
			if err != nil {
				return err
			}
			show := func(e *jack.Event) {
				if asJSON {
					// One object per line, so that -f --json is NDJSON.
					buf, _ := json.Marshal(e)
					fmt.Fprintf(c.stdout, "%s\n", buf)
					return
				}
				fmt.Fprintf(c.stdout, "%s  %-8s  %s\n", timestamp(e.Time), e.Kind, e.Message)
			}
			if follow {
				err := api.FollowEvents(ctx, app, env, 0, show)
				if errors.Is(err, context.Canceled) {
					return nil // interrupted, as -f is meant to end
				}
				return err
			}
			events, err := api.Events(ctx, app, env, 0, 0)
			if err != nil {
				return err
			}
			if asJSON {
				return printJSON(c.stdout, events)
			}
			for _, e := range events {
				show(e)
			}
			return nil
		}),
	}
	cmd.Flags().BoolVarP(&follow, "follow", "f", false, "keep printing events as they happen")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the API's JSON (one object per line with -f)")
	return cmd
}
