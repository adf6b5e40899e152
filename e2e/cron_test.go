package e2e

import (
	"encoding/json"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jack-paas/jack"
)

const cronManifest = `
processes:
  web: {command: gunicorn --bind 0.0.0.0:8000 notesite.wsgi, port: 8000, health: /health/}
release: python3 manage.py migrate --noinput
volumes: {data: /data}
cron:
  - {name: tick, schedule: "@every 2s", command: [sh, -c, "date +%s >> /data/ticks"]}
  - {name: slow, schedule: "@every 1s", command: [sh, -c, "echo slow; sleep 2.5"]}
  - {name: nightly, schedule: "30 3 * * *", timezone: Europe/Paris, command: python3 manage.py check}
`

// Cron jobs run on their schedule as one-off containers of the current
// release: each tick once, across a restart of the daemon too; a run still
// going makes the next tick be skipped with an event; `jack cron` lists
// them and `jack cron run` runs one now.
func TestCronRunsEachTickOnce(t *testing.T) {
	d := startDaemon(t)
	djangoImages(t, d.cli)
	d.ok("apps", "create", "notes")
	d.ok("envs", "create", "notes/production")
	manifest := filepath.Join(t.TempDir(), "jack.yaml")
	os.WriteFile(manifest, []byte(cronManifest), 0o644)
	d.ok("deploy", "notes/production", "--image", "jack-e2e-django:v1", "-f", manifest)

	maxSlow := 0
	watchSlow := func() {
		n := 0
		for _, c := range d.containers() {
			if c["dev.jack.process"] == "cron:slow" && c["dev.jack.kind"] == "cron" {
				n++
			}
		}
		maxSlow = max(maxSlow, n)
	}
	exited := func() int {
		n := 0
		for _, r := range d.runs() {
			if r.Job == "tick" && r.State == jack.RunExited {
				n++
			}
		}
		return n
	}
	eventually(t, "two runs of tick", 30*time.Second, func() bool { watchSlow(); return exited() >= 2 })
	downFrom := time.Now()
	d.stop()
	time.Sleep(2500 * time.Millisecond) // a tick passes while the daemon is down
	d.start()
	downTo := time.Now()
	before := exited()
	eventually(t, "two more runs of tick", 30*time.Second, func() bool { watchSlow(); return exited() >= before+2 })

	list := d.ok("cron", "notes/production")
	for _, want := range []string{"tick", "@every 2s", "nightly", "30 3 * * * (Europe/Paris)", "never"} {
		if !strings.Contains(list, want) {
			t.Fatalf("jack cron does not show %q:\n%s", want, list)
		}
	}
	if out := d.ok("cron", "run", "notes/production", "nightly"); !strings.Contains(out, "System check identified no issues") {
		t.Fatalf("jack cron run: %q", out)
	}

	// A release without cron jobs stops them; then every run of tick that
	// exited wrote one line, and no tick ran twice.
	d.ok("deploy", "notes/production", "--image", "jack-e2e-django:v1")
	eventually(t, "the cron containers to end", 20*time.Second, func() bool { return len(d.containers()) == 1 })
	lines := strings.Fields(d.ok("run", "notes/production", "--", "cat", "/data/ticks"))
	var ticks []time.Time // every tick handled: run, or skipped while the last ran
	exitedRuns, interrupted := 0, 0
	seen := map[time.Time]bool{}
	skipped := 0
	for _, r := range d.runs() {
		switch {
		case r.Job == "tick" && r.Tick != nil:
			if seen[*r.Tick] {
				t.Fatalf("tick %s ran twice", r.Tick)
			}
			seen[*r.Tick] = true
			ticks = append(ticks, *r.Tick)
			switch {
			case r.State == jack.RunExited:
				exitedRuns++
			case r.State == jack.RunFailed && strings.HasPrefix(r.Reason, "interrupted"):
				interrupted++ // running when the daemon stopped: it may have written its line
			}
		case r.Job == "slow" && r.State == jack.RunSkipped:
			skipped++
		}
	}
	if len(lines) < exitedRuns || len(lines) > exitedRuns+interrupted {
		t.Fatalf("%d runs of tick exited (%d interrupted), but %d lines were written: %v", exitedRuns, interrupted, len(lines), lines)
	}
	// Every tick ran, but those missed while the daemon was down; of
	// those, the newest ran when it came back.
	sort.Slice(ticks, func(i, j int) bool { return ticks[i].Before(ticks[j]) })
	caughtUp := false
	for i, tick := range ticks {
		if tick.UnixNano()%int64(2*time.Second) != 0 {
			t.Fatalf("tick %s is not on the 2s schedule", tick)
		}
		if tick.After(downFrom) && !tick.After(downTo) {
			caughtUp = true
		}
		if i == 0 {
			continue
		}
		for missing := ticks[i-1].Add(2 * time.Second); missing.Before(tick); missing = missing.Add(2 * time.Second) {
			if missing.Before(downFrom.Add(-time.Second)) || missing.After(downTo) {
				t.Fatalf("tick %s did not run, and the daemon was up (down from %s to %s); runs:\n%s", missing, downFrom, downTo, d.ok("runs", "notes/production", "-n", "100"))
			}
		}
	}
	if !caughtUp {
		t.Fatalf("no tick of the time the daemon was down (%s to %s) ran: %v", downFrom, downTo, ticks)
	}
	for _, line := range lines {
		if _, err := strconv.ParseInt(line, 10, 64); err != nil {
			t.Fatalf("the job wrote %q", line)
		}
	}
	if maxSlow > 1 {
		t.Fatalf("%d runs of the slow job ran at once; want no overlap", maxSlow)
	}
	if skipped == 0 || !strings.Contains(d.ok("events", "notes/production"), "Cron job slow skipped its run") {
		t.Fatalf("no tick of the slow job was skipped with an event")
	}
}

// runs returns the environment's runs, newest first.
func (d *daemon) runs() []*jack.Run {
	d.t.Helper()
	var runs []*jack.Run
	if err := json.Unmarshal([]byte(d.ok("runs", "notes/production", "--json", "-n", "1000")), &runs); err != nil {
		d.t.Fatal(err)
	}
	return runs
}
