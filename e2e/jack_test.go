// Package e2e drives the real jack binary against a real jack server and
// Docker engine, as a user would: the commands of the README and
// product.md, under load, through failures and a SIGKILL of the daemon.
package e2e

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/client"

	"github.com/jack-paas/jack/internal/dockertest"
	"github.com/jack-paas/jack/internal/router"
)

// jackBin is the jack binary built once for the package's tests.
var jackBin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "jack-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	jackBin = filepath.Join(dir, "jack")
	build := exec.Command("go", "build", "-o", jackBin, "github.com/jack-paas/jack/cmd/jack")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "build jack:", err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

const testapp = "github.com/jack-paas/jack/internal/dockertest/testapp"

// twoInstances starts a daemon with notes/production serving v1 of the
// test app on two instances.
func twoInstances(t testing.TB) *daemon {
	t.Helper()
	d := startDaemon(t)
	images(t, d.cli)
	d.ok("apps", "create", "notes")
	d.ok("envs", "create", "notes/production")
	d.ok("scale", "notes/production", "web=2")
	d.ok("deploy", "notes/production", "--image", "jack-e2e-app:v1")
	return d
}

// images builds the test app's images: v1 and v2 differ in APP_VERSION.
func images(t testing.TB, cli *client.Client) {
	t.Helper()
	buildImage(t, cli, "jack-e2e-app:v1", "ENV APP_VERSION=v1")
	buildImage(t, cli, "jack-e2e-app:v2", "ENV APP_VERSION=v2")
}

// buildImage builds the test app into an image tagged tag, with extra
// Dockerfile lines.
func buildImage(t testing.TB, cli *client.Client, tag string, extra ...string) {
	t.Helper()
	dockertest.BuildGoImage(t, cli, testapp, tag, append([]string{"EXPOSE 8080"}, extra...)...)
}

// daemon is a jack server started from the binary, with its own data
// folder, API and router ports.
type daemon struct {
	t      testing.TB
	data   string
	api    string // host:port
	http   string // host:port of the router
	home   string
	cmd    *exec.Cmd
	log    *bytes.Buffer
	token  string
	exited chan struct{}
	cli    *client.Client
	owner  string
	extra  []string // more `jack server` flags
	bin    string   // the jack binary the server runs; jackBin when empty
}

func freePort(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// startDaemon starts a jack server and removes everything it made when the
// test ends: the router process and the containers.
func startDaemon(t testing.TB, extraFlags ...string) *daemon {
	t.Helper()
	d := &daemon{t: t, data: t.TempDir(), api: freePort(t), http: freePort(t), home: t.TempDir(), cli: dockertest.Client(t), extra: extraFlags}
	d.start()
	t.Cleanup(d.cleanup)
	return d
}

// start runs `jack server` and waits for its API.
func (d *daemon) start() {
	d.t.Helper()
	d.log = &bytes.Buffer{}
	bin := d.bin
	if bin == "" {
		bin = jackBin
	}
	d.cmd = exec.Command(bin, append([]string{"server", "--data", d.data, "--api", d.api, "--http", d.http}, d.extra...)...)
	d.cmd.Env = append(os.Environ(), "HOME="+d.home, "XDG_CONFIG_HOME="+d.home)
	d.cmd.Stdout, d.cmd.Stderr = d.log, d.log
	if err := d.cmd.Start(); err != nil {
		d.t.Fatal(err)
	}
	d.exited = make(chan struct{})
	go func() { d.cmd.Wait(); close(d.exited) }()
	deadline := time.Now().Add(20 * time.Second)
	for {
		resp, err := http.Get("http://" + d.api + "/v1/health")
		if err == nil {
			resp.Body.Close()
			break
		}
		select {
		case <-d.exited:
			d.t.Fatalf("jack server exited: %s", d.log)
		default:
		}
		if time.Now().After(deadline) {
			d.t.Fatalf("jack server did not answer: %s", d.log)
		}
		time.Sleep(20 * time.Millisecond)
	}
	tok, err := os.ReadFile(filepath.Join(d.data, "admin-token"))
	if err != nil {
		d.t.Fatal(err)
	}
	d.token = strings.TrimSpace(string(tok))
	owner, _ := os.ReadFile(filepath.Join(d.data, "installation-id"))
	d.owner = strings.TrimSpace(string(owner))
}

// kill ends the daemon with SIGKILL.
func (d *daemon) kill() {
	d.cmd.Process.Signal(syscall.SIGKILL)
	<-d.exited
}

// stop ends the daemon with SIGTERM and waits for it.
func (d *daemon) stop() {
	d.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-d.exited:
	case <-time.After(15 * time.Second):
		d.t.Errorf("jack server did not stop on SIGTERM: %s", d.log)
		d.kill()
	}
}

func (d *daemon) cleanup() {
	select {
	case <-d.exited:
	default:
		d.stop()
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	rc := router.NewClient(router.SocketPath(d.data))
	rc.Shutdown(ctx)
	rc.Close()
	if d.owner == "" {
		return
	}
	list, err := d.cli.ContainerList(ctx, container.ListOptions{All: true, Filters: filters.NewArgs(filters.Arg("label", "dev.jack.owner="+d.owner))})
	if err != nil {
		d.t.Logf("list containers: %v", err)
		return
	}
	for _, c := range list {
		d.cli.ContainerRemove(ctx, c.ID, container.RemoveOptions{Force: true})
	}
	d.removeVolumes(ctx)
	if d.t.Failed() {
		d.t.Logf("jack server log:\n%s", d.log)
	}
}

// result is what one jack command did.
type result struct {
	code           int
	stdout, stderr string
}

// jack runs the jack client against the daemon.
func (d *daemon) jack(args ...string) result {
	d.t.Helper()
	return d.jackIn("", args...)
}

// jackIn runs a jack command with stdin as its standard input.
func (d *daemon) jackIn(stdin string, args ...string) result {
	d.t.Helper()
	cmd := exec.Command(jackBin, args...)
	cmd.Env = append(os.Environ(), "HOME="+d.home, "XDG_CONFIG_HOME="+d.home, "JACK_API=http://"+d.api, "JACK_TOKEN="+d.token)
	cmd.Stdin = strings.NewReader(stdin)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		d.t.Fatal(err)
	}
	return result{code, out.String(), errb.String()}
}

// ok runs a jack command that must succeed and returns its output.
func (d *daemon) ok(args ...string) string {
	d.t.Helper()
	r := d.jack(args...)
	if r.code != 0 {
		d.t.Fatalf("jack %s: exit %d\n%s%s", strings.Join(args, " "), r.code, r.stdout, r.stderr)
	}
	return r.stdout
}

// get requests path of an environment through the router.
func (d *daemon) get(host, path string) (int, string, error) {
	req, _ := http.NewRequest(http.MethodGet, "http://"+d.http+path, nil)
	req.Host = host
	resp, err := httpClient.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), err
}

var httpClient = &http.Client{Timeout: 30 * time.Second}

// body returns the page at path of host, failing on anything but 200.
func (d *daemon) body(host, path string) string {
	d.t.Helper()
	code, b, err := d.get(host, path)
	if err != nil || code != 200 {
		d.t.Fatalf("GET %s%s = %d %q %v", host, path, code, b, err)
	}
	return b
}

// load keeps clients requesting through the router and counts failures.
type load struct {
	ok, failed atomic.Int64
	mu         sync.Mutex
	errs       []string
	stop       chan struct{}
	wg         sync.WaitGroup
}

func (d *daemon) load(host string, clients int) *load {
	l := &load{stop: make(chan struct{})}
	for range clients {
		l.wg.Add(1)
		go func() {
			defer l.wg.Done()
			for {
				select {
				case <-l.stop:
					return
				default:
				}
				code, b, err := d.get(host, "/")
				if err == nil && code == 200 {
					l.ok.Add(1)
					continue
				}
				l.failed.Add(1)
				l.mu.Lock()
				if len(l.errs) < 10 {
					l.errs = append(l.errs, fmt.Sprintf("%s %d %q %v", time.Now().Format("15:04:05.000"), code, b, err))
				}
				l.mu.Unlock()
			}
		}()
	}
	return l
}

func (l *load) end(t *testing.T) {
	t.Helper()
	close(l.stop)
	l.wg.Wait()
	if l.ok.Load() == 0 {
		t.Fatal("no request succeeded under load")
	}
	if n := l.failed.Load(); n > 0 {
		t.Fatalf("%d of %d requests failed: %v", n, n+l.ok.Load(), l.errs)
	}
	t.Logf("%d requests under load, none failed", l.ok.Load())
}

// containers returns the daemon's running containers' labels.
func (d *daemon) containers() []map[string]string {
	d.t.Helper()
	list, err := d.cli.ContainerList(context.Background(), container.ListOptions{Filters: filters.NewArgs(filters.Arg("label", "dev.jack.owner="+d.owner))})
	if err != nil {
		d.t.Fatal(err)
	}
	var out []map[string]string
	for _, c := range list {
		out = append(out, c.Labels)
	}
	return out
}

// containerIDs returns the IDs of the daemon's running containers, sorted.
func (d *daemon) containerIDs() []string {
	d.t.Helper()
	list, err := d.cli.ContainerList(context.Background(), container.ListOptions{Filters: filters.NewArgs(filters.Arg("label", "dev.jack.owner="+d.owner))})
	if err != nil {
		d.t.Fatal(err)
	}
	var ids []string
	for _, c := range list {
		ids = append(ids, c.ID)
	}
	sort.Strings(ids)
	return ids
}

func eventually(t *testing.T, what string, timeout time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
