package main

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/jack-paas/jack/client"
	"github.com/spf13/cobra"
)

// newStatusCommand returns `jack status APP/ENV`.
func newStatusCommand(c *cli) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "status APP/ENV",
		Short: "Show an environment at a glance: release, version, URL, instances",
		Args:  argsBetween(1, 1),
		RunE: c.action(func(ctx context.Context, cmd *cobra.Command, args []string) error {
			api, app, env, err := c.envClient(args[0])
			if err != nil {
				return err
			}
			st, err := api.Status(ctx, app, env)
			if err != nil {
				return err
			}
			if asJSON {
				return printJSON(c.stdout, st)
			}
			return c.printStatus(st)
		}),
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the API's JSON")
	return cmd
}

// printStatus prints a status as aligned "Name: value" lines.
func (c *cli) printStatus(st *client.Status) error {
	now := time.Now()
	tw := table(c.stdout)
	fmt.Fprintf(tw, "Environment:\t%s (%s)\n", st.Env.Ref(), st.Env.Tier)
	if h := st.Health; h != nil {
		fmt.Fprintf(tw, "Health:\t%s\n", healthHeadline(h))
	}
	fmt.Fprintf(tw, "URL:\t%s\n", dash(st.URL))
	if st.Release != nil {
		fmt.Fprintf(tw, "Release:\t%d (%s, image %s), %s\n", st.Release.Number, st.Version, st.Image, st.Release.Description)
	} else {
		fmt.Fprintf(tw, "Release:\tnone yet; deploy with `jack deploy %s --image REF`\n", st.Env.Ref())
	}
	if d := st.LastDeployment; d != nil {
		line := fmt.Sprintf("%s of release %d %s %s", d.Kind, d.ReleaseNumber, d.State, ago(now, d.CreatedAt))
		if d.Reason != "" {
			line += ": " + d.Reason
		}
		fmt.Fprintf(tw, "Deployment:\t%s\n", line)
	}
	fmt.Fprintf(tw, "Instances:\t%s\n", instanceSummary(st.Instances))
	return tw.Flush()
}

// instanceSummary returns "web 2 healthy, 1 starting; worker 1 healthy".
func instanceSummary(counts map[string]map[string]int) string {
	if len(counts) == 0 {
		return "none"
	}
	processes := make([]string, 0, len(counts))
	for p := range counts {
		processes = append(processes, p)
	}
	sort.Strings(processes)
	parts := make([]string, 0, len(processes))
	for _, p := range processes {
		states := make([]string, 0, len(counts[p]))
		for state, n := range counts[p] {
			states = append(states, fmt.Sprintf("%d %s", n, state))
		}
		sort.Strings(states)
		parts = append(parts, p+" "+strings.Join(states, ", "))
	}
	return strings.Join(parts, "; ")
}
