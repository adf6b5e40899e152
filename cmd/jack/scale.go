package main

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/jack-paas/jack"
	"github.com/spf13/cobra"
)

// newScaleCommand returns `jack scale APP/ENV PROCESS=N...`.
func newScaleCommand(c *cli) *cobra.Command {
	var wait waitFlags
	cmd := &cobra.Command{
		Use:   "scale APP/ENV PROCESS=N...",
		Short: "Set how many instances of each process run",
		Args:  argsBetween(2, -1),
		RunE: c.action(func(ctx context.Context, cmd *cobra.Command, args []string) error {
			app, env, err := parseRef(args[0])
			if err != nil {
				return err
			}
			scale, err := parseScale(args[1:])
			if err != nil {
				return err
			}
			api, err := c.client()
			if err != nil {
				return err
			}
			d, err := api.Scale(ctx, app, env, scale)
			if err != nil {
				return err
			}
			if d == nil {
				fmt.Fprintf(c.stdout, "Scale of %s/%s stored; it applies from the first deploy\n", app, env)
				return nil
			}
			return c.finish(ctx, api, d, app, env, wait)
		}),
	}
	cmd.Flags().BoolVar(&wait.noWait, "no-wait", false, "print the deployment's ID and return at once")
	return cmd
}

// parseScale parses PROCESS=N arguments.
func parseScale(args []string) (map[string]int, error) {
	scale := make(map[string]int, len(args))
	for _, arg := range args {
		process, count, ok := strings.Cut(arg, "=")
		if !ok {
			return nil, usageErrorf("%q is not PROCESS=N; write it like web=3", arg)
		}
		if err := jack.ValidateName("process", process); err != nil {
			return nil, usageErrorf("%s", jack.ErrorMessage(err))
		}
		n, err := strconv.Atoi(count)
		if err != nil || n < 0 {
			return nil, usageErrorf("%q: the count must be a whole number, 0 or more", arg)
		}
		if _, dup := scale[process]; dup {
			return nil, usageErrorf("process %s is given twice", process)
		}
		scale[process] = n
	}
	return scale, nil
}
