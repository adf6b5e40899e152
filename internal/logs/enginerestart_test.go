package logs

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/client"
	jack "github.com/jack-paas/jack"
	"github.com/jack-paas/jack/internal/docker"
	"github.com/jack-paas/jack/internal/dockertest"
)

// privateEngine is a Docker engine of the test's own: its own socket,
// folders and containerd, a bridge of its own and no iptables rules, and
// live-restore, so that its containers run on while it restarts. The test
// can kill and restart it without touching the engine every other test
// shares. (Not --bridge=none: with it dockerd deletes the host's docker0.)
type privateEngine struct {
	t      *testing.T
	dir    string
	host   string
	bridge string
	cmd    *exec.Cmd
	exited chan struct{}
}

func startPrivateEngine(t *testing.T) *privateEngine {
	t.Helper()
	if testing.Short() {
		t.Skip("starts a Docker engine of its own")
	}
	dir, err := os.MkdirTemp("", "jack-engine-")
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, "daemon.json"), []byte("{}"), 0o600)
	suffix := make([]byte, 4)
	rand.Read(suffix)
	e := &privateEngine{t: t, dir: dir, host: "unix://" + filepath.Join(dir, "docker.sock"), bridge: "jkt" + hex.EncodeToString(suffix)}
	t.Cleanup(e.remove)
	subnet := fmt.Sprintf("10.252.%d.1/24", suffix[0])
	for _, args := range [][]string{
		{"link", "add", e.bridge, "type", "bridge"}, {"addr", "add", subnet, "dev", e.bridge}, {"link", "set", e.bridge, "up"},
	} {
		if out, err := exec.Command("ip", args...).CombinedOutput(); err != nil {
			t.Fatalf("ip %s: %v %s", strings.Join(args, " "), err, out)
		}
	}
	e.start()
	return e
}

// start runs dockerd and waits until it answers.
func (e *privateEngine) start() {
	e.t.Helper()
	e.cmd = exec.Command("dockerd",
		"--data-root", filepath.Join(e.dir, "root"), "--exec-root", filepath.Join(e.dir, "exec"),
		"--pidfile", filepath.Join(e.dir, "docker.pid"), "-H", e.host, "--config-file", filepath.Join(e.dir, "daemon.json"),
		"--bridge="+e.bridge, "--iptables=false", "--ip-masq=false", "--ip-forward=false", "--live-restore")
	logFile, _ := os.OpenFile(filepath.Join(e.dir, "dockerd.log"), os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
	e.cmd.Stdout, e.cmd.Stderr = logFile, logFile
	if err := e.cmd.Start(); err != nil {
		e.t.Fatalf("start a private dockerd: %v", err)
	}
	e.exited = make(chan struct{})
	go func() { e.cmd.Wait(); logFile.Close(); close(e.exited) }()
	cli := e.client()
	defer cli.Close()
	deadline := time.Now().Add(30 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		_, err := cli.Ping(ctx)
		cancel()
		if err == nil {
			return
		}
		select {
		case <-e.exited:
			log, _ := os.ReadFile(filepath.Join(e.dir, "dockerd.log"))
			e.t.Fatalf("the private dockerd exited:\n%s", log)
		default:
		}
		if time.Now().After(deadline) {
			e.t.Fatalf("the private dockerd did not answer in 30s: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func (e *privateEngine) client() *client.Client {
	cli, err := client.NewClientWithOpts(client.WithHost(e.host), client.WithAPIVersionNegotiation())
	if err != nil {
		e.t.Fatal(err)
	}
	return cli
}

// kill ends dockerd and its containerd with SIGKILL, as a crash of the
// engine would; the containers run on under their shims.
func (e *privateEngine) kill() {
	e.cmd.Process.Signal(syscall.SIGKILL)
	<-e.exited
	e.killContainerd()
}

// killContainerd kills the engine's containerd and waits until it is gone;
// its pid file goes too, so that the next dockerd starts a new one.
func (e *privateEngine) killContainerd() {
	pidFile := filepath.Join(e.dir, "exec", "containerd", "containerd.pid")
	pid, err := os.ReadFile(pidFile)
	if err != nil {
		return
	}
	n, _ := strconv.Atoi(strings.TrimSpace(string(pid)))
	if n <= 0 {
		return
	}
	syscall.Kill(n, syscall.SIGKILL)
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if stat, err := os.ReadFile("/proc/" + strconv.Itoa(n) + "/stat"); err != nil || strings.Contains(string(stat), ") Z ") {
			break // gone, or dead and not yet reaped
		}
	}
	os.Remove(pidFile)
}

// remove removes the engine's containers, stops it and deletes its folders.
func (e *privateEngine) remove() {
	select {
	case <-e.exited:
	default:
		cli := e.client()
		ctx := context.Background()
		if list, err := cli.ContainerList(ctx, container.ListOptions{All: true}); err == nil {
			for _, c := range list {
				cli.ContainerRemove(ctx, c.ID, container.RemoveOptions{Force: true})
			}
		}
		cli.Close()
		e.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-e.exited:
		case <-time.After(30 * time.Second):
			e.kill()
		}
	}
	e.killContainerd()
	// dockerd mounts its data folder on itself; take that (and anything
	// left under it) off before deleting.
	if mounts, err := os.ReadFile("/proc/mounts"); err == nil {
		var under []string
		for _, line := range strings.Split(string(mounts), "\n") {
			if f := strings.Fields(line); len(f) > 1 && strings.HasPrefix(f[1], e.dir) {
				under = append(under, f[1])
			}
		}
		for i := len(under) - 1; i >= 0; i-- {
			syscall.Unmount(under[i], syscall.MNT_DETACH)
		}
	}
	os.RemoveAll(e.dir)
	exec.Command("ip", "link", "del", e.bridge).Run()
}

func TestEveryLineTheEngineKeepsIsStoredOnceThroughAnEngineRestart(t *testing.T) {
	e := startPrivateEngine(t)
	cli := e.client()
	defer cli.Close()
	dockertest.BuildGoImage(t, cli, dockertest.TestApp, spewImageTag)

	const owner, n = "engine-restart-test", 60000
	r, err := docker.New(e.host, owner, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	s := openStore(t, t.TempDir())
	c := NewCollector(r, s, nil)
	if err := c.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer c.Close()

	ctx := context.Background()
	resp, err := cli.ContainerCreate(ctx, &container.Config{
		Image: spewImageTag, Cmd: []string{"spew", strconv.Itoa(n)}, Env: []string{"SPEW_RATE=10000", "SPEW_EXIT=1"},
		Labels: map[string]string{jack.LabelOwner: owner, jack.LabelApp: "notes", jack.LabelEnv: "production",
			jack.LabelProcess: "worker", jack.LabelSlot: "1", jack.LabelRelease: "1"},
	}, &container.HostConfig{NetworkMode: "none", LogConfig: container.LogConfig{Type: "local", Config: map[string]string{"max-size": "64m", "max-file": "3"}}}, nil, nil, "")
	if err != nil {
		t.Fatal(err)
	}
	if err := cli.ContainerStart(ctx, resp.ID, container.StartOptions{}); err != nil {
		t.Fatal(err)
	}
	l := envLogOf(t, s)
	waitRecords(t, l, 10000, 30*time.Second)

	e.kill() // the container runs on (live-restore); its output waits in its pipe
	time.Sleep(time.Second)
	e.start()

	// The app ends after its last line; wait until the engine and Jack
	// both have everything.
	deadline := time.Now().Add(90 * time.Second)
	var want []string
	for {
		info, err := cli.ContainerInspect(ctx, resp.ID)
		if err == nil && !info.State.Running {
			want = engineLinesOf(t, cli, resp.ID)
			if storedRecords(l) >= int64(len(want)) {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("after the engine's restart: %d records stored, the engine has %d lines", storedRecords(l), len(want))
		}
		time.Sleep(100 * time.Millisecond)
	}
	got := storedLines(t, s)
	t.Logf("the engine kept %d of the %d lines the app wrote across its restart; Jack stored %d", len(want), n, len(got))
	sameLines(t, "stored against the engine's", got, want)
	for i := 1; i < len(got); i++ {
		a, _ := strconv.Atoi(got[i-1])
		b, _ := strconv.Atoi(got[i])
		if b <= a {
			t.Fatalf("line %d (%s) after %s", i, got[i], got[i-1])
		}
	}
}

// engineLinesOf returns every line an engine keeps of a container.
func engineLinesOf(t *testing.T, cli *client.Client, id string) []string {
	t.Helper()
	rc, err := cli.ContainerLogs(context.Background(), id, container.LogsOptions{ShowStdout: true, ShowStderr: true})
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	// No TTY: 8-byte frame headers; the app's lines are short, one frame each.
	var out []string
	br := bufio.NewReader(rc)
	hdr := make([]byte, 8)
	for {
		if _, err := io.ReadFull(br, hdr); err != nil {
			return out
		}
		size := int(hdr[4])<<24 | int(hdr[5])<<16 | int(hdr[6])<<8 | int(hdr[7])
		buf := make([]byte, size)
		if _, err := io.ReadFull(br, buf); err != nil {
			return out
		}
		out = append(out, strings.TrimSuffix(string(buf), "\n"))
	}
}
