package e2e

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jack-paas/jack"
)

// spewImage is the test app image of the log tests; its own tag, so that
// it is the test app of this tree whatever other trees build.
const spewImage = "jack-e2e-logs:spew"

// deploySpewer deploys notes/production with a web process and a worker
// printing lines 1..n at rate lines a second.
func deploySpewer(t *testing.T, d *daemon, n, rate int) {
	t.Helper()
	buildImage(t, d.cli, spewImage)
	manifest := filepath.Join(t.TempDir(), "jack.yaml")
	os.WriteFile(manifest, fmt.Appendf(nil, "processes:\n  web:\n    port: 8080\n  worker:\n    command: spew %d\n", n), 0o600)
	d.ok("apps", "create", "notes")
	d.ok("envs", "create", "notes/production")
	d.ok("config", "set", "notes/production", "SPEW_RATE="+strconv.Itoa(rate))
	d.ok("deploy", "notes/production", "--image", spewImage, "-f", manifest)
}

// logRecords returns the records `jack logs --json` prints for args.
func (d *daemon) logRecords(args ...string) []jack.LogRecord {
	d.t.Helper()
	out := d.ok(append([]string{"logs", "notes/production", "--json", "--since", "1h"}, args...)...)
	var recs []jack.LogRecord
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		if line == "" {
			continue
		}
		var r jack.LogRecord
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			d.t.Fatalf("jack logs --json printed %q: %v", line, err)
		}
		recs = append(recs, r)
	}
	return recs
}

// lastWorkerLine returns the number the worker printed last, as stored.
func (d *daemon) lastWorkerLine() int {
	d.t.Helper()
	recs := d.logRecords("--process", "worker", "-n", "1")
	if len(recs) == 0 {
		return 0
	}
	n, _ := strconv.Atoi(string(recs[0].Line))
	return n
}

// Kill the daemon with SIGKILL while a worker prints numbered lines: when
// it is back, every line is stored once, in order.
func TestLogsKeepEveryLineOnceThroughASIGKILLOfTheDaemon(t *testing.T) {
	const n = 40000
	d := startDaemon(t)
	deploySpewer(t, d, n, 8000) // five seconds of lines
	eventually(t, "the first thousand lines", 30*time.Second, func() bool { return d.lastWorkerLine() >= 1000 })
	d.kill()
	time.Sleep(time.Second) // the worker goes on printing, no daemon to read
	d.start()
	eventually(t, "the last line", 60*time.Second, func() bool { return d.lastWorkerLine() == n })

	recs := d.logRecords("--process", "worker")
	if len(recs) != n {
		t.Fatalf("%d worker lines stored, want %d", len(recs), n)
	}
	for i, r := range recs {
		if string(r.Line) != strconv.Itoa(i+1) {
			t.Fatalf("worker line %d is %q", i+1, r.Line)
		}
		if r.Instance != "worker.1" || r.Release != 1 || r.Stream != jack.StreamStdout {
			t.Fatalf("record %+v", r)
		}
	}
	// The platform's events are there once each too.
	started := 0
	for _, r := range d.logRecords("--process", "jack") {
		if strings.HasPrefix(string(r.Line), "Deployment 1 started") {
			started++
		}
	}
	if started != 1 {
		t.Fatalf("the event of the deployment's start is stored %d times, want once", started)
	}
}

// A line a container writes reaches `jack logs -f` (the latency is
// measured by bench/logs.sh).
func TestFollowingShowsNewLinesAsTheyAreWritten(t *testing.T) {
	d := startDaemon(t)
	deploySpewer(t, d, 0, 0)
	cmd := exec.Command(jackBin, "logs", "notes/production", "-f", "--process", "web")
	cmd.Env = append(os.Environ(), "HOME="+d.home, "XDG_CONFIG_HOME="+d.home, "JACK_API=http://"+d.api, "JACK_TOKEN="+d.token)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { cmd.Process.Kill(); cmd.Wait() }()
	lines := make(chan string, 100)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	for i := range 3 {
		msg := fmt.Sprintf("followed-%d-%d", i, time.Now().UnixNano())
		d.body(host, "/log?msg="+msg)
		deadline := time.After(10 * time.Second)
	wait:
		for {
			select {
			case l, ok := <-lines:
				if !ok {
					t.Fatal("jack logs -f ended")
				}
				if strings.HasSuffix(l, " web.1 "+msg) {
					break wait
				}
			case <-deadline:
				t.Fatalf("%q did not reach jack logs -f", msg)
			}
		}
	}
}
