package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/jack-paas/jack"
	"github.com/spf13/cobra"
	"golang.org/x/term"
)

// newHealthCommand returns `jack health APP/ENV [--watch]`.
func newHealthCommand(c *cli) *cobra.Command {
	var asJSON, watch bool
	var every time.Duration
	cmd := &cobra.Command{
		Use:   "health APP/ENV",
		Short: "Show an environment's health, why, and each instance",
		Long: `Show an environment's health (ok, warning, degraded, severe, pending or
unknown) with its causes in words, the last minute's requests, and each
instance: state, last health check and its latency, share of 5xx, CPU and
memory. --watch refreshes it until interrupted.`,
		Args: argsBetween(1, 1),
		RunE: c.action(func(ctx context.Context, cmd *cobra.Command, args []string) error {
			if every <= 0 {
				return usageErrorf("--interval %s is not a positive duration; give one such as 2s", every)
			}
			api, app, env, err := c.envClient(args[0])
			if err != nil {
				return err
			}
			show := func() error {
				h, err := api.EnvHealth(ctx, app, env)
				if err != nil {
					return err
				}
				if asJSON {
					return printJSON(c.stdout, h)
				}
				return printHealth(c.stdout, h, time.Now())
			}
			if !watch {
				return show()
			}
			clear := isTerminal(c.stdout) && !asJSON
			tick := time.NewTicker(every)
			defer tick.Stop()
			for {
				if clear {
					fmt.Fprint(c.stdout, "\033[H\033[2J")
				}
				if err := show(); err != nil {
					if ctx.Err() != nil {
						return nil
					}
					return err
				}
				if !clear {
					fmt.Fprintln(c.stdout)
				}
				select {
				case <-ctx.Done():
					return nil
				case <-tick.C:
				}
			}
		}),
	}
	f := cmd.Flags()
	f.BoolVar(&asJSON, "json", false, "print the API's JSON")
	f.BoolVarP(&watch, "watch", "w", false, "refresh until interrupted")
	f.DurationVar(&every, "interval", 2*time.Second, "how often --watch refreshes")
	return cmd
}

// printHealth prints the headline, the causes, the traffic and a table of
// instances.
func printHealth(w io.Writer, h *jack.Health, now time.Time) error {
	fmt.Fprintf(w, "%s: %s", h.Env, strings.ToUpper(h.State))
	if !h.Since.IsZero() {
		fmt.Fprintf(w, " for %s", human(now.Sub(h.Since)))
	}
	fmt.Fprintln(w)
	for _, c := range h.Causes {
		fmt.Fprintf(w, "  - %s\n", c)
	}
	fmt.Fprintf(w, "Last minute: %d requests, %s 5xx, p95 %s\n\n", h.Requests, share(h.ErrorShare, h.Requests), latency(h.P95))
	if len(h.Instances) == 0 {
		fmt.Fprintln(w, "No instances run.")
		return nil
	}
	tw := table(w)
	fmt.Fprintln(tw, "INSTANCE\tSTATE\tLAST CHECK\tLATENCY\tREQUESTS\t5XX\tCPU\tMEMORY\tRESTARTS")
	for _, in := range h.Instances {
		check := ago(now, in.LastCheck)
		if in.CheckError != "" && in.CheckFailures > 0 {
			check += " (failing: " + in.CheckError + ")"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t%s\t%s\t%s\t%d\n", in.Name, in.State, check, duration(in.CheckLatency),
			in.Requests, share(in.ErrorShare, in.Requests), cpuText(in), memoryText(in), in.Restarts)
	}
	return tw.Flush()
}

// healthHeadline returns "degraded: 1 of 3 web instances failing health
// checks (+1 more)", the line `jack status` shows.
func healthHeadline(h *jack.Health) string {
	s := h.State
	if len(h.Causes) > 0 {
		s += ": " + h.Causes[0]
	}
	if n := len(h.Causes) - 1; n > 0 {
		s += fmt.Sprintf(" (+%d more; see jack health %s)", n, h.Env)
	}
	return s
}

// share writes a 5xx share, "-" without requests.
func share(s float64, requests uint64) string {
	if requests == 0 {
		return "-"
	}
	return fmt.Sprintf("%.1f%%", s*100)
}

func latency(seconds float64) string {
	if seconds == 0 {
		return "-"
	}
	return duration(time.Duration(seconds * float64(time.Second)))
}

func duration(d time.Duration) string {
	switch {
	case d == 0:
		return "-"
	case d < time.Millisecond:
		return fmt.Sprintf("%dµs", d.Microseconds())
	case d < 10*time.Millisecond:
		return strings.TrimSuffix(fmt.Sprintf("%.1f", float64(d)/float64(time.Millisecond)), ".0") + "ms"
	case d < time.Second:
		return fmt.Sprintf("%dms", d.Milliseconds())
	}
	return d.Round(10 * time.Millisecond).String()
}

func cpuText(in *jack.InstanceHealth) string {
	if in.SampledAt.IsZero() {
		return "-"
	}
	s := fmt.Sprintf("%.1f%%", in.CPUPercent)
	if in.CPULimit > 0 {
		s += fmt.Sprintf(" of %g", in.CPULimit)
	}
	return s
}

func memoryText(in *jack.InstanceHealth) string {
	if in.SampledAt.IsZero() {
		return "-"
	}
	s := mib(in.MemoryWorking)
	if in.MemoryLimit > 0 {
		s += " / " + mib(in.MemoryLimit)
	}
	return s
}

func mib(n uint64) string {
	return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
}

// isTerminal reports whether w is a terminal, where --watch redraws.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}
