package main

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/jack-paas/jack"
	"github.com/spf13/cobra"
)

// newCronCommand returns `jack cron APP/ENV` and `jack cron run APP/ENV NAME`.
func newCronCommand(c *cli) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "cron APP/ENV",
		Short: "List an environment's cron jobs with their next and last runs",
		Args:  argsBetween(1, 1),
		RunE: c.action(func(ctx context.Context, cmd *cobra.Command, args []string) error {
			api, app, env, err := c.envClient(args[0])
			if err != nil {
				return err
			}
			jobs, err := api.CronJobs(ctx, app, env)
			if err != nil {
				return err
			}
			if asJSON {
				return printJSON(c.stdout, jobs)
			}
			if len(jobs) == 0 {
				fmt.Fprintf(c.stdout, "%s/%s has no cron jobs; add them under cron: in jack.yaml\n", app, env)
				return nil
			}
			tw := table(c.stdout)
			fmt.Fprintln(tw, "JOB\tSCHEDULE\tCOMMAND\tNEXT\tLAST RUN")
			now := time.Now()
			for _, j := range jobs {
				schedule := j.Schedule
				if j.Timezone != "" {
					schedule += " (" + j.Timezone + ")"
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", j.Name, schedule, shorten(strings.Join(j.Command, " "), 40), in(now, j.Next), lastRun(now, j.LastRun))
			}
			return tw.Flush()
		}),
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the API's JSON")
	cmd.AddCommand(newCronRunCommand(c))
	return cmd
}

// newCronRunCommand returns `jack cron run APP/ENV NAME`.
func newCronRunCommand(c *cli) *cobra.Command {
	return &cobra.Command{
		Use:   "run APP/ENV NAME",
		Short: "Run a cron job now, print its output, and exit with its exit code",
		Args:  argsBetween(2, 2),
		RunE: c.action(func(ctx context.Context, cmd *cobra.Command, args []string) error {
			app, env, err := parseRef(args[0])
			if err != nil {
				return err
			}
			if err := jack.ValidateName("cron job", args[1]); err != nil {
				return usageErrorf("%s", jack.ErrorMessage(err))
			}
			api, err := c.client()
			if err != nil {
				return err
			}
			run, err := api.RunCron(ctx, app, env, args[1])
			if err != nil {
				return err
			}
			for _, line := range run.Output {
				fmt.Fprintln(c.stdout, line)
			}
			switch {
			case run.State == jack.RunExited && run.ExitCode == 0:
				return nil
			case run.State == jack.RunExited:
				fmt.Fprintf(c.stderr, "jack: cron job %s (run %d) exited with code %d\n", args[1], run.ID, run.ExitCode)
				return &exitError{code: exitCode(run.ExitCode)}
			}
			return fmt.Errorf("cron job %s (run %d) failed: %s", args[1], run.ID, run.Reason)
		}),
	}
}

// in says when a future time comes, e.g. "in 3m (14:05:00)".
func in(now, t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return fmt.Sprintf("in %s (%s)", human(t.Sub(now).Round(time.Second)), t.Local().Format("2006-01-02 15:04:05"))
}

// lastRun describes a job's last run.
func lastRun(now time.Time, r *jack.Run) string {
	if r == nil {
		return "never"
	}
	switch r.State {
	case jack.RunExited:
		return fmt.Sprintf("%s, exit %d", ago(now, r.CreatedAt), r.ExitCode)
	case jack.RunRunning:
		return fmt.Sprintf("running since %s", ago(now, r.CreatedAt))
	}
	return fmt.Sprintf("%s, %s (%s)", ago(now, r.CreatedAt), r.State, r.Reason)
}
