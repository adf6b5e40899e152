package e2e

import (
	"bytes"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// deployDjango deploys v1 of the Django site to notes/production.
func deployDjango(t *testing.T) *daemon {
	t.Helper()
	d := startDaemon(t)
	djangoImages(t, d.cli)
	d.ok("apps", "create", "notes")
	d.ok("envs", "create", "notes/production")
	d.ok("deploy", "notes/production", "--image", "jack-e2e-django:v1")
	return d
}

// jack run passes the command's output and exit code through, feeds it
// standard input with -i, keeps stdout and stderr apart, gives it the
// release's config, and lists runs with their exit codes.
func TestRunExitCodesAndStdin(t *testing.T) {
	d := deployDjango(t)
	d.ok("config", "set", "notes/production", "GREETING=hello from config")
	r := d.jack("run", "notes/production", "--", "sh", "-c", `echo "$GREETING $JACK_PROCESS"; echo oops >&2; exit 3`)
	if r.code != 3 || r.stdout != "hello from config run\n" || r.stderr != "oops\n" {
		t.Fatalf("exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
	cmd := exec.Command(jackBin, "run", "-i", "notes/production", "--", "sh", "-c", "tr a-z A-Z; echo done")
	cmd.Env = d.env()
	cmd.Stdin = strings.NewReader("line one\nline two\n")
	out, err := cmd.Output()
	if err != nil || string(out) != "LINE ONE\nLINE TWO\ndone\n" {
		t.Fatalf("with stdin: %q, %v", out, err)
	}
	// The run sees the environment's volume and network: it reads the
	// database the release command made.
	if out := d.ok("run", "notes/production", "--", "python3", "manage.py", "shell", "-c", "from notes.models import Note; print(Note.objects.count())"); out != "1\n" {
		t.Fatalf("the run does not see the volume's database: %q", out)
	}
	if r := d.jack("run", "notes/production", "--", "no-such-command"); r.code != 1 || !strings.Contains(r.stderr, `"no-such-command" is not found in the image`) {
		t.Fatalf("a missing command: exit %d %q", r.code, r.stderr)
	}
	if r := d.jack("run", "notes/production", "--process", "worker", "--", "true"); r.code != 1 || !strings.Contains(r.stderr, "process worker is not in v1's manifest") {
		t.Fatalf("an unknown process: exit %d %q", r.code, r.stderr)
	}
	if r := d.jack("run", "notes/production", "true"); r.code != 2 {
		t.Fatalf("a command without --: exit %d %q", r.code, r.stderr)
	}
	list := d.ok("runs", "notes/production")
	for _, want := range []string{"exited    3", "no-such-command", "tr a-z A-Z"} {
		if !strings.Contains(strings.Join(strings.Fields(list), " "), strings.Join(strings.Fields(want), " ")) {
			t.Fatalf("jack runs does not show %q:\n%s", want, list)
		}
	}
	// The same list either way (as JSON: the table says "1s ago").
	if again, runs := d.ok("run", "--list", "--json", "notes/production"), d.ok("runs", "--json", "notes/production"); again != runs {
		t.Fatalf("jack run --list differs from jack runs:\n%s\n%s", again, runs)
	}
	if cs := d.containers(); len(cs) != 1 {
		t.Fatalf("containers after the runs: %v; want only web.1", cs)
	}
}

// jack run -it gives the command a terminal of the client's size, over the
// API, and passes the exit code of the session through.
func TestRunWithATerminal(t *testing.T) {
	d := deployDjango(t)
	var out syncBuffer
	// script gives jack a terminal of its own, 33 rows by 101 columns.
	cmd := exec.Command("script", "-eqfc", "stty rows 33 cols 101; exec "+jackBin+" run -it notes/production -- bash", "/dev/null")
	cmd.Env = append(d.env(), "TERM=xterm")
	stdin, _ := cmd.StdinPipe()
	cmd.Stdout = &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the shell's prompt", 20*time.Second, func() bool { return strings.Contains(out.String(), "/app#") })
	stdin.Write([]byte("tty; stty size; exit 7\r"))
	err := cmd.Wait()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 7 {
		t.Fatalf("jack run -it: %v, want exit 7\n%s", err, out.String())
	}
	if !strings.Contains(out.String(), "/dev/pts/0") || !strings.Contains(out.String(), "33 101") {
		t.Fatalf("the session had no terminal of the client's size:\n%s", out.String())
	}
	if r := d.jack("run", "-it", "notes/production", "--", "bash"); r.code != 2 || !strings.Contains(r.stderr, "-t needs a terminal") {
		t.Fatalf("-t without a terminal: exit %d %q", r.code, r.stderr)
	}
}

// Ctrl-C stops the container: it gets SIGTERM, and jack exits with the
// code the command exited with; nothing is left running.
func TestRunCtrlCStopsTheContainer(t *testing.T) {
	d := deployDjango(t)
	cmd := exec.Command(jackBin, "run", "notes/production", "--", "sh", "-c", `trap 'echo got TERM; exit 130' TERM; echo waiting; sleep 300 & wait`)
	cmd.Env = d.env()
	var out syncBuffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the command to start", 20*time.Second, func() bool { return strings.Contains(out.String(), "waiting") })
	cmd.Process.Signal(syscall.SIGINT)
	err := cmd.Wait()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 130 || !strings.Contains(out.String(), "got TERM") {
		t.Fatalf("after Ctrl-C: %v\n%s", err, out.String())
	}
	eventually(t, "the run's container to go", 10*time.Second, func() bool { return len(d.containers()) == 1 })
}

// env returns the environment of a jack client of the daemon.
func (d *daemon) env() []string {
	return append(os.Environ(), "HOME="+d.home, "XDG_CONFIG_HOME="+d.home, "JACK_API=http://"+d.api, "JACK_TOKEN="+d.token)
}

// syncBuffer is a buffer that a command writes while a test reads it.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
