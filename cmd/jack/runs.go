package main

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/jack-paas/jack"
	"github.com/spf13/cobra"
)

// newRunsCommand returns `jack runs APP/ENV`.
func newRunsCommand(c *cli) *cobra.Command {
	var (
		limit  int
		asJSON bool
	)
	cmd := &cobra.Command{
		Use:   "runs APP/ENV",
		Short: "List an environment's one-off runs and cron runs with their exit codes",
		Args:  argsBetween(1, 1),
		RunE: c.action(func(ctx context.Context, cmd *cobra.Command, args []string) error {
			app, env, err := parseRef(args[0])
			if err != nil {
				return err
			}
			return c.listRuns(ctx, app, env, limit, asJSON)
		}),
	}
	cmd.Flags().IntVarP(&limit, "limit", "n", 20, "how many runs")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the API's JSON")
	return cmd
}

// listRuns prints an environment's runs, newest first.
func (c *cli) listRuns(ctx context.Context, app, env string, limit int, asJSON bool) error {
	if limit < 1 {
		return usageErrorf("--limit must be at least 1")
	}
	api, err := c.client()
	if err != nil {
		return err
	}
	runs, err := api.ListRuns(ctx, app, env, "", limit)
	if err != nil {
		return err
	}
	if asJSON {
		return printJSON(c.stdout, runs)
	}
	if len(runs) == 0 {
		fmt.Fprintf(c.stdout, "No runs of %s/%s yet; start one with `jack run %s/%s -- COMMAND`\n", app, env, app, env)
		return nil
	}
	printRuns(c.stdout, runs)
	return nil
}

// printRuns prints runs as a table.
func printRuns(w io.Writer, runs []*jack.Run) {
	tw := table(w)
	fmt.Fprintln(tw, "RUN\tKIND\tCOMMAND\tRELEASE\tSTATE\tEXIT\tSTARTED\tTOOK")
	now := time.Now()
	for _, r := range runs {
		kind := r.Kind
		if r.Job != "" {
			kind += " " + r.Job
		}
		exit, took := "-", "-"
		if r.State == jack.RunExited || (r.State == jack.RunFailed && r.FinishedAt != nil && r.Reason == "stopped") {
			exit = fmt.Sprint(r.ExitCode)
		}
		if r.FinishedAt != nil {
			took = seconds(r.FinishedAt.Sub(r.CreatedAt))
		}
		state := r.State
		if r.Reason != "" && r.State != jack.RunExited {
			state += " (" + r.Reason + ")"
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%d\t%s\t%s\t%s\t%s\n", r.ID, kind, shorten(strings.Join(r.Command, " "), 40), r.Release, state, exit, ago(now, r.CreatedAt), took)
	}
	tw.Flush()
}
