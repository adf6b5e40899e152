package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// binary is the testapp built once for these tests.
var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "testapp-")
	if err != nil {
		panic(err)
	}
	binary = filepath.Join(dir, "testapp")
	if out, err := exec.Command("go", "build", "-o", binary, ".").CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "go build: %v\n%s", err, out)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// app is a running testapp process.
type app struct {
	cmd   *exec.Cmd
	url   string
	lines chan string // its stdout and stderr
}

// start runs the testapp with env added to its environment and, unless it
// runs as a worker, waits until it answers.
func start(t *testing.T, env []string, args ...string) *app {
	t.Helper()
	port := freePort(t)
	cmd := exec.Command(binary, args...)
	cmd.Env = append([]string{"PORT=" + port, "HOSTNAME=box1"}, env...)
	pr, pw := io.Pipe()
	cmd.Stdout, cmd.Stderr = pw, pw
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	a := &app{cmd: cmd, url: "http://127.0.0.1:" + port, lines: make(chan string, 100)}
	go func() {
		s := bufio.NewScanner(pr)
		for s.Scan() {
			a.lines <- s.Text()
		}
		close(a.lines)
	}()
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait(); pw.Close() })
	return a
}

// waitLine waits for a line of output that contains s.
func (a *app) waitLine(t *testing.T, s string) {
	t.Helper()
	deadline := time.After(10 * time.Second)
	for {
		select {
		case line, ok := <-a.lines:
			if !ok {
				t.Fatalf("output ended without %q", s)
			}
			if strings.Contains(line, s) {
				return
			}
		case <-deadline:
			t.Fatalf("no line with %q in 10s", s)
		}
	}
}

// wait waits for the process to exit and returns its exit code.
func (a *app) wait(t *testing.T) int {
	t.Helper()
	err := a.cmd.Wait()
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		return exit.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return 0
}

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		resp, err := http.Get(url)
		if err == nil {
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			return resp.StatusCode, string(body)
		}
		if time.Now().After(deadline) {
			t.Fatalf("GET %s: %v", url, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func freePort(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return fmt.Sprint(l.Addr().(*net.TCPAddr).Port)
}

func TestAnswersWithItsIdentityHealthAndEnv(t *testing.T) {
	a := start(t, []string{"APP_VERSION=v2", "JACK_RELEASE=7", "JACK_PROCESS=web", "COLOR=blue"})
	a.waitLine(t, "listening on :")
	cases := []struct {
		path   string
		status int
		body   string
	}{
		{"/", 200, "version=v2 release=7 process=web instance=box1\n"},
		{"/health", 200, "ok"},
		{"/env/COLOR", 200, "blue"},
		{"/env/NOPE", 404, "not set\n"},
		{"/sleep?d=10ms", 200, "slept 10ms\n"},
	}
	for _, c := range cases {
		if status, body := get(t, a.url+c.path); status != c.status || body != c.body {
			t.Errorf("GET %s = %d %q, want %d %q", c.path, status, body, c.status, c.body)
		}
	}
}

func TestFailHealthAnswers500(t *testing.T) {
	a := start(t, []string{"FAIL_HEALTH=1"})
	if status, _ := get(t, a.url+"/health"); status != 500 {
		t.Errorf("GET /health = %d, want 500", status)
	}
}

func TestFinishesInFlightRequestOnSIGTERM(t *testing.T) {
	a := start(t, nil)
	a.waitLine(t, "listening on :")
	done := make(chan string)
	go func() {
		resp, err := http.Get(a.url + "/sleep?d=1s")
		if err != nil {
			done <- err.Error()
			return
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		done <- fmt.Sprint(resp.StatusCode, " ", string(body))
	}()
	a.waitLine(t, "sleeping 1s")
	a.cmd.Process.Signal(syscall.SIGTERM)
	if got := <-done; got != "200 slept 1s\n" {
		t.Errorf("in-flight request got %q, want 200 slept 1s", got)
	}
	if code := a.wait(t); code != 0 {
		t.Errorf("exit code %d after SIGTERM, want 0", code)
	}
}

func TestExitEndpointAnswersThenExitsWithCode(t *testing.T) {
	a := start(t, nil)
	if status, body := get(t, a.url+"/exit?code=3"); status != 200 || body != "exiting with 3\n" {
		t.Errorf("GET /exit = %d %q", status, body)
	}
	if code := a.wait(t); code != 3 {
		t.Errorf("exit code %d, want 3", code)
	}
}

func TestExitAtStartFailsLoudly(t *testing.T) {
	a := start(t, []string{"EXIT_AT_START=4"})
	a.waitLine(t, "boom: failing on purpose")
	if code := a.wait(t); code != 4 {
		t.Errorf("exit code %d, want 4", code)
	}
}

func TestWorkerWorksUntilSIGTERM(t *testing.T) {
	a := start(t, nil, "worker")
	a.waitLine(t, "working 1")
	a.cmd.Process.Signal(syscall.SIGTERM)
	a.waitLine(t, "worker stopping")
	if code := a.wait(t); code != 0 {
		t.Errorf("exit code %d after SIGTERM, want 0", code)
	}
}

func TestLogWritesLinesToOutput(t *testing.T) {
	a := start(t, nil)
	get(t, a.url+"/log?msg=hello-out")
	a.waitLine(t, "hello-out")
	get(t, a.url+"/log?msg=hello-err&stream=stderr")
	a.waitLine(t, "hello-err")
}
