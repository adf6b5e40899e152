package e2e

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/jack-paas/jack"
	"github.com/jack-paas/jack/client"
	"github.com/jack-paas/jack/internal/dockertest"
)

// BenchmarkLogs measures, in one run (bench/logs.sh runs it), with a
// container that prints numbered lines as fast as it can:
//
//   - the lines per second the engine itself delivers to a plain
//     `docker logs -f` of such a container (with Jack's log settings);
//   - the lines per second Jack stores of such a container, deployed as a
//     worker, and whether it stored every line once;
//   - the lines per second that reach a syslog receiver on loopback
//     through a syslog+tcp drain, every line accounted for;
//   - how long a line a web instance writes takes to reach a following
//     client (p50 and p99);
//   - the daemon's peak memory (VmHWM).
//
// JACK_BENCH_LINES sets the number of lines (default 1,000,000). b.N is
// ignored.
func BenchmarkLogs(b *testing.B) {
	lines := 1_000_000
	if s := os.Getenv("JACK_BENCH_LINES"); s != "" {
		lines, _ = strconv.Atoi(s)
	}
	d := startDaemon(b)
	buildImage(b, d.cli, spewImage)

	engineRate, engineCount := dockerLogsRate(b, lines)

	// Jack alone: an environment without drains.
	api := client.New("http://"+d.api, d.token)
	manifest := filepath.Join(b.TempDir(), "jack.yaml")
	os.WriteFile(manifest, fmt.Appendf(nil, "processes:\n  web:\n    port: 8080\n  worker:\n    command: spew %d\n", lines), 0o600)
	d.ok("apps", "create", "notes")
	d.ok("envs", "create", "notes/production")
	cpu := cpuTime(d.cmd.Process.Pid)
	d.ok("deploy", "notes/production", "--image", spewImage, "-f", manifest)
	started := workerStart(b, d, "production")
	stored := waitStored(b, api, "production", lines)
	jackRate := float64(lines) / stored.Sub(started).Seconds()
	jackCPU := cpuTime(d.cmd.Process.Pid) - cpu
	once := everyLineOnce(b, api, lines)
	p50, p99, worst := followLatency(b, d, api, 200)

	// Through a drain: another environment, with a syslog+tcp drain.
	recv := newSyslogCounter(b, "worker.1")
	d.ok("envs", "create", "notes/drained")
	d.ok("drains", "add", "notes/drained", "syslog+tcp://"+recv.addr())
	d.ok("deploy", "notes/drained", "--image", spewImage, "-f", manifest)
	started = workerStart(b, d, "drained")
	drained := recv.waitAll(b, lines)
	drainRate := float64(lines) / drained.Sub(started).Seconds()
	peak := peakKiB(d.cmd.Process.Pid)

	fmt.Printf("\nJack logs benchmark: a container printing %d numbered lines as fast as it can\n", lines)
	fmt.Printf("  docker logs -f (the engine)  %9.0f lines/s  (%d lines)\n", engineRate, engineCount)
	fmt.Printf("  jack stores                  %9.0f lines/s  %.2fx the engine's (target >= 0.9x); every line once: %v; %.1fs of CPU\n", jackRate, jackRate/engineRate, once, jackCPU.Seconds())
	fmt.Printf("  syslog+tcp drain             %9.0f lines/s  every line once: %v (%d received, %d twice)\n", drainRate, recv.complete(lines), recv.unique(), recv.dups())
	fmt.Printf("  follow latency               %9.1f ms p50, %.1f ms p99, %.1f ms at worst (target < 100 ms)\n", ms(p50), ms(p99), ms(worst))
	fmt.Printf("  jack server peak memory      %9.1f MiB (VmHWM; target < 100 MiB)\n", float64(peak)/1024)
	b.ReportMetric(engineRate, "engine-lines/s")
	b.ReportMetric(jackRate, "jack-lines/s")
	b.ReportMetric(jackRate/engineRate, "jack/engine")
	b.ReportMetric(drainRate, "drain-lines/s")
	b.ReportMetric(ms(p99), "follow-p99-ms")
	b.ReportMetric(float64(peak)/1024, "server-peak-MiB")
}

// dockerLogsRate runs the spewing app in a container with Jack's log
// settings and returns the lines per second `docker logs -f` gets, from the
// container's start to the end of its output, and how many it got.
func dockerLogsRate(b *testing.B, lines int) (float64, int) {
	cli := dockertest.Client(b)
	dockertest.Cleanup(b, cli)
	ctx := context.Background()
	resp, err := cli.ContainerCreate(ctx, &container.Config{
		Image: spewImage, Cmd: []string{"spew", strconv.Itoa(lines)}, Env: []string{"SPEW_EXIT=1"}, Labels: dockertest.Labels(b),
	}, &container.HostConfig{LogConfig: container.LogConfig{Type: "local", Config: map[string]string{"max-size": "64m", "max-file": "3"}}}, nil, nil, "")
	if err != nil {
		b.Fatal(err)
	}
	if err := cli.ContainerStart(ctx, resp.ID, container.StartOptions{}); err != nil {
		b.Fatal(err)
	}
	cmd := exec.Command("docker", "logs", "-f", resp.ID)
	out, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	count := 0
	br := bufio.NewReaderSize(out, 1<<20)
	for {
		_, err := br.ReadSlice('\n')
		if err == io.EOF {
			break
		} else if err == nil {
			count++
		}
	}
	end := time.Now()
	cmd.Wait()
	info, err := cli.ContainerInspect(ctx, resp.ID)
	if err != nil {
		b.Fatal(err)
	}
	start, _ := time.Parse(time.RFC3339Nano, info.State.StartedAt)
	return float64(count) / end.Sub(start).Seconds(), count
}

// workerStart returns when the worker's container of notes/env started.
func workerStart(b *testing.B, d *daemon, env string) time.Time {
	for _, id := range d.containerIDs() {
		info, err := d.cli.ContainerInspect(context.Background(), id)
		if err == nil && info.Config.Labels["dev.jack.process"] == "worker" && info.Config.Labels["dev.jack.env"] == env {
			t, _ := time.Parse(time.RFC3339Nano, info.State.StartedAt)
			return t
		}
	}
	b.Fatal("no worker container")
	return time.Time{}
}

// waitStored polls Jack until the worker's last line is stored and returns
// when it saw it.
func waitStored(b *testing.B, api *client.Client, env string, lines int) time.Time {
	want := strconv.Itoa(lines)
	deadline := time.Now().Add(5 * time.Minute)
	for time.Now().Before(deadline) {
		var last string
		api.Logs(context.Background(), jack.LogQuery{App: "notes", Env: env, Process: "worker", N: 1}, func(r *jack.LogRecord) error {
			last = string(r.Line)
			return nil
		})
		if last == want {
			return time.Now()
		}
		time.Sleep(100 * time.Millisecond)
	}
	b.Fatalf("Jack did not store line %d within 5 minutes", lines)
	return time.Time{}
}

// everyLineOnce reports whether Jack holds the worker's lines 1..n, each
// once, in order.
func everyLineOnce(b *testing.B, api *client.Client, n int) bool {
	next := 1
	err := api.Logs(context.Background(), jack.LogQuery{App: "notes", Env: "production", Process: "worker", Since: time.Now().Add(-time.Hour)},
		func(r *jack.LogRecord) error {
			if string(r.Line) != strconv.Itoa(next) {
				return fmt.Errorf("line %d is %q", next, r.Line)
			}
			next++
			return nil
		})
	if err != nil {
		b.Logf("reading the lines back: %v", err)
		return false
	}
	return next == n+1
}

// followLatency follows the web instance's lines and has it write k lines
// one after the other; it returns the median, 99th percentile and worst of
// the time from asking the app for the line (it writes it before it
// answers) to the line reaching the follower.
func followLatency(b *testing.B, d *daemon, api *client.Client, k int) (time.Duration, time.Duration, time.Duration) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	got := make(chan string, 1000)
	go api.Logs(ctx, jack.LogQuery{App: "notes", Env: "production", Process: "web", Follow: true, N: 1}, func(r *jack.LogRecord) error {
		got <- string(r.Line)
		return nil
	})
	var lat []time.Duration
	for i := range k {
		msg := fmt.Sprintf("latency-%d", i)
		written := time.Now()
		d.body(host, "/log?msg="+msg)
		timeout := time.After(10 * time.Second)
	wait:
		for {
			select {
			case l := <-got:
				if l == msg {
					lat = append(lat, time.Since(written))
					break wait
				}
			case <-timeout:
				b.Fatalf("%s never reached the follower", msg)
			}
		}
	}
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	return lat[len(lat)/2], lat[len(lat)*99/100], lat[len(lat)-1]
}

// cpuTime returns the CPU time a process used so far, from /proc.
func cpuTime(pid int) time.Duration {
	buf, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	f := strings.Fields(string(buf[bytes.LastIndexByte(buf, ')')+2:]))
	utime, _ := strconv.Atoi(f[11])
	stime, _ := strconv.Atoi(f[12])
	return time.Duration(utime+stime) * 10 * time.Millisecond // USER_HZ is 100
}

// peakKiB reads a process's peak resident memory from /proc.
func peakKiB(pid int) int {
	buf, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(buf), "\n") {
		if strings.HasPrefix(line, "VmHWM:") {
			n, _ := strconv.Atoi(strings.Fields(line)[1])
			return n
		}
	}
	return 0
}

// syslogCounter is a syslog receiver on loopback (TCP, octet counting)
// that counts the numbered lines of one instance.
type syslogCounter struct {
	ln       net.Listener
	instance string
	mu       sync.Mutex
	seen     map[int]bool
	twice    int
	last     time.Time
}

func newSyslogCounter(b *testing.B, instance string) *syslogCounter {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { ln.Close() })
	s := &syslogCounter{ln: ln, instance: instance, seen: map[int]bool{}}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go s.read(c)
		}
	}()
	return s
}

func (s *syslogCounter) addr() string { return s.ln.Addr().String() }

func (s *syslogCounter) read(c net.Conn) {
	defer c.Close()
	br := bufio.NewReaderSize(c, 1<<20)
	var msg []byte
	for {
		size, err := br.ReadSlice(' ')
		if err != nil {
			return
		}
		n, _ := strconv.Atoi(string(bytes.TrimSpace(size)))
		if cap(msg) < n {
			msg = make([]byte, n)
		}
		msg = msg[:n]
		if _, err := io.ReadFull(br, msg); err != nil {
			return
		}
		// <PRI>1 TIMESTAMP HOST APP PROCID MSGID [SD] MSG
		f := bytes.SplitN(msg, []byte(" "), 6)
		if len(f) < 6 || string(f[4]) != s.instance {
			continue
		}
		i := bytes.Index(msg, []byte("] "))
		num, err := strconv.Atoi(string(msg[i+2:]))
		if err != nil {
			continue
		}
		s.mu.Lock()
		if s.seen[num] {
			s.twice++
		} else {
			s.seen[num] = true
			s.last = time.Now()
		}
		s.mu.Unlock()
	}
}

func (s *syslogCounter) unique() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.seen)
}

func (s *syslogCounter) dups() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.twice
}

// complete reports whether lines 1..n arrived, each once.
func (s *syslogCounter) complete(n int) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.seen) != n || s.twice != 0 {
		return false
	}
	for i := 1; i <= n; i++ {
		if !s.seen[i] {
			return false
		}
	}
	return true
}

// waitAll waits for n distinct lines and returns when the last arrived.
func (s *syslogCounter) waitAll(b *testing.B, n int) time.Time {
	deadline := time.Now().Add(5 * time.Minute)
	for s.unique() < n {
		if time.Now().After(deadline) {
			b.Fatalf("the syslog receiver got %d of %d lines in 5 minutes", s.unique(), n)
		}
		time.Sleep(10 * time.Millisecond)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.last
}
