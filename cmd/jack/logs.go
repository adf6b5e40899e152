package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"os"
	"strings"
	"time"

	"github.com/jack-paas/jack"
	"github.com/jack-paas/jack/client"
	"github.com/spf13/cobra"
	"golang.org/x/term"
)

// logsFlags are the flags of `jack logs`.
type logsFlags struct {
	follow, asJSON, settings bool
	process, instance        string
	since, until             string
	lines                    int
	grep                     string
	retention, maxSize       string
}

// newLogsCommand returns `jack logs APP/ENV`: read, search and follow an
// environment's log, or set how much of it is kept.
func newLogsCommand(c *cli) *cobra.Command {
	var f logsFlags
	cmd := &cobra.Command{
		Use:   "logs APP/ENV [-f] [--process P] [--instance I] [--since DUR|TIME] [--until DUR|TIME] [-n N] [--grep REGEX] [--json]",
		Short: "Show, search and follow an environment's logs; set how long they are kept",
		Long: `Show an environment's log: what its instances, release commands and one-off
runs wrote, the router's access log and Jack's own events, as

  TIME  PROCESS.INSTANCE  LINE

Without -n or a time range, the last 100 lines. --since and --until take a
duration back from now (10m, 2h, 3d) or a time (2025-03-01 12:00, or RFC 3339).
--grep takes a regular expression in Go's syntax ('(?i)error|timeout').
--json prints one JSON object per line.

  jack logs APP/ENV --retention 3d --max-size 500m   keep 3 days, at most 500 MiB
  jack logs APP/ENV --settings                       show what is kept`,
		Args: argsBetween(1, 1),
		RunE: c.action(func(ctx context.Context, cmd *cobra.Command, args []string) error {
			app, env, err := parseRef(args[0])
			if err != nil {
				return err
			}
			if f.retention != "" || f.maxSize != "" || f.settings {
				return c.logSettings(ctx, app, env, f)
			}
			q, err := f.query(app, env, time.Now())
			if err != nil {
				return err
			}
			api, err := c.client()
			if err != nil {
				return err
			}
			return c.printLogs(ctx, api, q, f.asJSON)
		}),
	}
	fl := cmd.Flags()
	fl.BoolVarP(&f.follow, "follow", "f", false, "keep printing lines as they are written")
	fl.StringVarP(&f.process, "process", "p", "", "only this process's lines (web, worker, router, jack ...)")
	fl.StringVarP(&f.instance, "instance", "i", "", "only this instance's lines (web.1), or a container's (ID prefix)")
	fl.StringVar(&f.since, "since", "", "lines from this time, or this long ago (10m, 3d)")
	fl.StringVar(&f.until, "until", "", "lines before this time, or this long ago")
	fl.IntVarP(&f.lines, "lines", "n", 0, "only the last N lines (default 100 without a time range)")
	fl.StringVarP(&f.grep, "grep", "g", "", "only lines matching this regular expression")
	fl.BoolVar(&f.asJSON, "json", false, "print one JSON object per line")
	fl.StringVar(&f.retention, "retention", "", "set how long lines are kept (1h to 3650d; default 7d)")
	fl.StringVar(&f.maxSize, "max-size", "", "set how much of the log is kept on disk (default 1g)")
	fl.BoolVar(&f.settings, "settings", false, "show how long and how much of the log is kept")
	return cmd
}

// query turns the flags into a log query; a mistake in them is a usage
// error.
func (f *logsFlags) query(app, env string, now time.Time) (jack.LogQuery, error) {
	q := jack.LogQuery{App: app, Env: env, Process: f.process, Instance: f.instance, N: f.lines, Grep: f.grep, Follow: f.follow}
	var err error
	if f.since != "" {
		if q.Since, err = jack.ParseLogTime(f.since, now); err != nil {
			return q, usageErrorf("--since: %s", jack.ErrorMessage(err))
		}
	}
	if f.until != "" {
		if q.Until, err = jack.ParseLogTime(f.until, now); err != nil {
			return q, usageErrorf("--until: %s", jack.ErrorMessage(err))
		}
	}
	if _, err := q.Validate(); err != nil {
		return q, usageErrorf("%s", jack.ErrorMessage(err))
	}
	return q, nil
}

// printLogs prints the records of q as people read them, or as NDJSON.
func (c *cli) printLogs(ctx context.Context, api *client.Client, q jack.LogQuery, asJSON bool) error {
	out := bufio.NewWriterSize(c.stdout, 64<<10)
	p := &logPrinter{w: out, colour: isColourTerminal(c.stdout)}
	err := api.Logs(ctx, q, func(r *jack.LogRecord) error {
		if asJSON {
			buf, err := json.Marshal(r)
			if err != nil {
				return err
			}
			out.Write(append(buf, '\n'))
		} else {
			p.print(r)
		}
		if q.Follow || out.Buffered() > 32<<10 {
			return out.Flush()
		}
		return nil
	})
	if ferr := out.Flush(); err == nil {
		err = ferr
	}
	if q.Follow && errors.Is(err, context.Canceled) {
		return nil // interrupted, as -f is meant to end
	}
	return err
}

// logPrinter prints records as "TIME SOURCE LINE", the sources aligned and
// coloured on a terminal.
type logPrinter struct {
	w      io.Writer
	colour bool
	width  int
}

// Colours of sources, picked by a hash of the source; time is dimmed.
var sourceColours = []string{"\x1b[36m", "\x1b[33m", "\x1b[32m", "\x1b[35m", "\x1b[34m", "\x1b[96m", "\x1b[93m", "\x1b[92m"}

const (
	dim   = "\x1b[2m"
	red   = "\x1b[31m"
	reset = "\x1b[0m"
)

func (p *logPrinter) print(r *jack.LogRecord) {
	stamp := r.Time.Local().Format("2006-01-02 15:04:05.000")
	source := r.Source()
	p.width = max(p.width, min(len(source), 24))
	pad := strings.Repeat(" ", max(0, p.width-len(source)))
	if !p.colour {
		fmt.Fprintf(p.w, "%s %s%s %s\n", stamp, source, pad, r.Line)
		return
	}
	h := fnv.New32a()
	h.Write([]byte(source))
	colour := sourceColours[h.Sum32()%uint32(len(sourceColours))]
	if r.Process == jack.ProcessJack {
		colour = red
	}
	fmt.Fprintf(p.w, "%s%s%s %s%s%s%s %s\n", dim, stamp, reset, colour, source, reset, pad, r.Line)
}

// isColourTerminal reports whether w is a terminal that should get colour:
// not when NO_COLOR is set or TERM is dumb.
func isColourTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok || !term.IsTerminal(int(f.Fd())) {
		return false
	}
	return os.Getenv("NO_COLOR") == "" && os.Getenv("TERM") != "dumb"
}

// logSettings shows an environment's retention, after changing it when
// --retention or --max-size is given.
func (c *cli) logSettings(ctx context.Context, app, env string, f logsFlags) error {
	var patch client.LogSettingsPatch
	if f.retention != "" {
		d, err := jack.ParseLongDuration(f.retention)
		if err != nil {
			return usageErrorf("--retention: %s", jack.ErrorMessage(err))
		}
		if err := (jack.LogSettings{Retention: d}).Validate(); err != nil || d == 0 {
			return usageErrorf("--retention %s is out of range; give from 1h to 3650d", f.retention)
		}
		patch.Retention = d.String()
	}
	if f.maxSize != "" {
		n, err := jack.ParseByteSize(f.maxSize)
		if err != nil {
			return usageErrorf("--max-size: %s", jack.ErrorMessage(err))
		}
		if err := (jack.LogSettings{MaxBytes: n}).Validate(); err != nil || n == 0 {
			return usageErrorf("--max-size %s is out of range; give from 1m to 1p", f.maxSize)
		}
		patch.MaxBytes = n
	}
	api, err := c.client()
	if err != nil {
		return err
	}
	var s *client.LogSettings
	if patch != (client.LogSettingsPatch{}) {
		s, err = api.SetLogSettings(ctx, app, env, patch)
	} else {
		s, err = api.LogSettings(ctx, app, env)
	}
	if err != nil {
		return err
	}
	if f.asJSON {
		return printJSON(c.stdout, s)
	}
	retention, _ := time.ParseDuration(s.Retention)
	files := "files"
	if s.Usage.Segments == 1 {
		files = "file"
	}
	fmt.Fprintf(c.stdout, "%s/%s keeps its logs for %s, at most %s; now %s in %d %s",
		app, env, days(retention), bytesHuman(s.MaxBytes), bytesHuman(s.Usage.Bytes), s.Usage.Segments, files)
	if !s.Usage.Oldest.IsZero() {
		fmt.Fprintf(c.stdout, ", the oldest line from %s", timestamp(s.Usage.Oldest))
	}
	fmt.Fprintln(c.stdout)
	return nil
}

// days formats a duration in days when it is whole days (3d), else as Go
// does (36h0m0s).
func days(d time.Duration) string {
	if d > 0 && d%(24*time.Hour) == 0 {
		return fmt.Sprintf("%dd", d/(24*time.Hour))
	}
	return d.String()
}

// bytesHuman formats a size in binary units: 512 B, 12.3 MiB, 1.0 GiB.
func bytesHuman(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit && exp < 4; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTP"[exp])
}
