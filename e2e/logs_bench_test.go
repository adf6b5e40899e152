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
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/pkg/stdcopy"
	"github.com/jack-paas/jack"
	"github.com/jack-paas/jack/client"
	"github.com/jack-paas/jack/internal/dockertest"
)

// BenchmarkLogs measures, in one run (bench/logs.sh runs it), with a
// worker that prints numbered lines (SPEW_PAD bytes each) as fast as it can:
//
//   - the rate at which such a container writes into the engine's local
//     driver when nothing reads its output: the reference;
//   - the rate at which Jack makes the lines readable, with a syslog+tcp
//     drain on: lines over the time from the container's start to its last
//     line coming back from `jack logs -n 1` (the API call the command
//     makes, polled every 20 ms); against the reference (target >= 0.9x)
//     and against the same container's own writing time (when Jack reads,
//     both share the machine);
//   - the same with a CPU hog (a process spinning on one core) beside it:
//     against the unloaded figure (target >= 0.7x);
//   - whether every line was stored and drained once, the follow latency of
//     a web instance's lines (p50, p99), and the daemon's peak memory.
//
// The three measures alternate, JACK_BENCH_ROUNDS times (default 3); the
// figures are the medians, with the range. JACK_BENCH_LINES sets the number
// of lines (default 1,000,000), JACK_BENCH_PAD their size (default 100
// bytes). b.N is ignored.
func BenchmarkLogs(b *testing.B) {
	lines, pad := envInt("JACK_BENCH_LINES", 1_000_000), envInt("JACK_BENCH_PAD", 100)
	rounds := max(1, envInt("JACK_BENCH_ROUNDS", 3))
	d := startDaemon(b)
	buildImage(b, d.cli, spewImage)
	api := client.New("http://"+d.api, d.token)
	manifest := filepath.Join(b.TempDir(), "jack.yaml")
	os.WriteFile(manifest, fmt.Appendf(nil, "processes:\n  web:\n    port: 8080\n  worker:\n    command: spew %d\n", lines), 0o600)
	d.ok("apps", "create", "notes")

	fmt.Printf("\nJack logs benchmark: a container printing %d numbered lines of %d bytes as fast as it can\n", lines, pad+7)
	var ref, quiet, loaded, sameQuiet, sameLoaded []float64
	allOnce := true
	for round := range rounds {
		alone := rawWriteTime(b, d, lines, pad)
		q := ingest(b, d, api, manifest, fmt.Sprintf("quiet%d", round), lines, pad)
		hog := startHog(b)
		l := ingest(b, d, api, manifest, fmt.Sprintf("loaded%d", round), lines, pad)
		hog()
		once := q.storedOnce && q.drainedOnce && l.storedOnce && l.drainedOnce
		allOnce = allOnce && once
		r := float64(lines) / alone.Seconds()
		qr, lr := float64(lines)/q.readable.Seconds(), float64(lines)/l.readable.Seconds()
		ref, quiet, loaded = append(ref, r), append(quiet, qr/r), append(loaded, lr/qr)
		sameQuiet, sameLoaded = append(sameQuiet, q.wrote.Seconds()/q.readable.Seconds()), append(sameLoaded, l.wrote.Seconds()/l.readable.Seconds())
		fmt.Printf("  round %d: alone %.0f lines/s; Jack %.0f lines/s = %.2fx (same container %.2fx; CPU: jack server %.2fs, dockerd %.2fs, benchmark %.2fs); loaded %.0f lines/s = %.2fx unloaded; every line stored and drained once: %v\n",
			round+1, r, qr, qr/r, sameQuiet[round], q.serverCPU.Seconds(), q.engineCPU.Seconds(), q.benchCPU.Seconds(), lr, lr/qr, once)
	}
	p50, p99, worst := followLatency(b, d, api, "quiet0", 200)
	peak := peakKiB(d.cmd.Process.Pid)

	fmt.Printf("  into the local driver, nothing reading  %s lines/s\n", spread(ref, "%.0f"))
	fmt.Printf("  readable through jack logs, drain on    %s x the reference (target >= 0.9x); %s x the same container's writing time\n", spread(quiet, "%.2f"), spread(sameQuiet, "%.2f"))
	fmt.Printf("  the same with a CPU hog beside it       %s x unloaded (target >= 0.7x); %s x the same container's\n", spread(loaded, "%.2f"), spread(sameLoaded, "%.2f"))
	fmt.Printf("  every line stored once and drained once %v\n", allOnce)
	fmt.Printf("  follow latency                          %.1f ms p50, %.1f ms p99, %.1f ms at worst (target < 100 ms)\n", ms(p50), ms(p99), ms(worst))
	fmt.Printf("  jack server peak memory                 %.1f MiB (VmHWM; target < 100 MiB)\n", float64(peak)/1024)
	b.ReportMetric(medianFloat(ref), "engine-lines/s")
	b.ReportMetric(medianFloat(quiet), "jack/engine")
	b.ReportMetric(medianFloat(sameQuiet), "jack/same-container")
	b.ReportMetric(medianFloat(loaded), "loaded/unloaded")
	b.ReportMetric(ms(p99), "follow-p99-ms")
	b.ReportMetric(float64(peak)/1024, "server-peak-MiB")
	if !allOnce {
		b.Error("a line was lost or stored or drained twice")
	}
}

// medianFloat returns the median of xs.
func medianFloat(xs []float64) float64 {
	s := slices.Clone(xs)
	slices.Sort(s)
	return s[len(s)/2]
}

// spread formats the median of xs and, for more than one, their range.
func spread(xs []float64, format string) string {
	med := fmt.Sprintf(format, medianFloat(xs))
	if len(xs) == 1 {
		return med
	}
	return fmt.Sprintf("%s (%s-%s)", med, fmt.Sprintf(format, slices.Min(xs)), fmt.Sprintf(format, slices.Max(xs)))
}

func envInt(name string, def int) int {
	if n, err := strconv.Atoi(os.Getenv(name)); err == nil && n >= 0 {
		return n
	}
	return def
}

// rawWriteTime runs the spewing app in a container with Jack's log
// settings, nothing reading its output, and returns the time from its
// start to the engine's stamp of its last line.
func rawWriteTime(b *testing.B, d *daemon, lines, pad int) time.Duration {
	ctx := context.Background()
	resp, err := d.cli.ContainerCreate(ctx, &container.Config{
		Image: spewImage, Cmd: []string{"spew", strconv.Itoa(lines)}, Env: []string{"SPEW_EXIT=1", "SPEW_PAD=" + strconv.Itoa(pad)}, Labels: dockertest.Labels(b),
	}, &container.HostConfig{LogConfig: container.LogConfig{Type: "local", Config: map[string]string{"max-size": "64m", "max-file": "3", "compress": "false"}}}, nil, nil, "")
	if err != nil {
		b.Fatal(err)
	}
	defer d.cli.ContainerRemove(ctx, resp.ID, container.RemoveOptions{Force: true})
	if err := d.cli.ContainerStart(ctx, resp.ID, container.StartOptions{}); err != nil {
		b.Fatal(err)
	}
	waitC, errC := d.cli.ContainerWait(ctx, resp.ID, container.WaitConditionNotRunning)
	select {
	case <-waitC:
	case err := <-errC:
		b.Fatal(err)
	}
	info, err := d.cli.ContainerInspect(ctx, resp.ID)
	if err != nil {
		b.Fatal(err)
	}
	started, _ := time.Parse(time.RFC3339Nano, info.State.StartedAt)
	rc, err := d.cli.ContainerLogs(ctx, resp.ID, container.LogsOptions{ShowStdout: true, Timestamps: true, Tail: "1"})
	if err != nil {
		b.Fatal(err)
	}
	defer rc.Close()
	var out bytes.Buffer
	stdcopy.StdCopy(&out, io.Discard, rc)
	stamp, rest, _ := strings.Cut(out.String(), " ")
	last, err := time.Parse(time.RFC3339Nano, stamp)
	if num, _, _ := strings.Cut(rest, " "); err != nil || num != strconv.Itoa(lines) {
		b.Fatalf("the container's last line is %.40q", out.String())
	}
	return last.Sub(started)
}

// ingestRun is what ingest measured: the time from the worker's start to
// the engine's stamp of its last line (wrote), to that line being readable
// through Jack, and to its reaching the drain; and what the drain got.
type ingestRun struct {
	wrote, readable, drained time.Duration
	storedOnce, drainedOnce  bool
	drainUnique, drainDups   int
	// CPU used from the deploy to the last line being readable.
	serverCPU, engineCPU, benchCPU time.Duration
}

// ingest deploys the spewing worker to a new environment with a syslog+tcp
// drain, and measures how soon its lines are readable and drained.
func ingest(b *testing.B, d *daemon, api *client.Client, manifest, env string, lines, pad int) ingestRun {
	recv := newSyslogCounter(b, "worker.1", lines)
	ref := "notes/" + env
	d.ok("envs", "create", ref)
	d.ok("config", "set", ref, "SPEW_PAD="+strconv.Itoa(pad))
	d.ok("drains", "add", ref, "syslog+tcp://"+recv.addr())
	engine := dockerdPID()
	server, dockerd, self := cpuTime(d.cmd.Process.Pid), cpuTime(engine), cpuTime(os.Getpid())
	d.ok("deploy", ref, "--image", spewImage, "-f", manifest)
	started := workerStart(b, d, env)
	readable, last := waitStored(b, api, env, lines)
	run := ingestRun{
		serverCPU: cpuTime(d.cmd.Process.Pid) - server, engineCPU: cpuTime(engine) - dockerd, benchCPU: cpuTime(os.Getpid()) - self,
	}
	drained := recv.waitAll(b, lines)
	run.wrote, run.readable, run.drained = last.Sub(started), readable.Sub(started), drained.Sub(started)
	run.drainedOnce, run.drainUnique, run.drainDups = recv.complete(lines), recv.unique(), recv.dups()
	run.storedOnce = everyLineOnce(b, api, env, lines)
	return run
}

// startHog starts a process that spins on one core until the returned
// function is called.
func startHog(b *testing.B) (stop func()) {
	cmd := exec.Command("sh", "-c", "while :; do :; done")
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	return func() {
		cmd.Process.Kill()
		cmd.Wait()
	}
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

// waitStored polls Jack as `jack logs -n 1` does until the worker's last
// line is readable, and returns when it saw it and the line's stamp.
func waitStored(b *testing.B, api *client.Client, env string, lines int) (time.Time, time.Time) {
	want := strconv.Itoa(lines)
	deadline := time.Now().Add(5 * time.Minute)
	for time.Now().Before(deadline) {
		var last string
		var stamp time.Time
		api.Logs(context.Background(), jack.LogQuery{App: "notes", Env: env, Process: "worker", N: 1}, func(r *jack.LogRecord) error {
			last, _, _ = strings.Cut(string(r.Line), " ")
			stamp = r.Time
			return nil
		})
		if last == want {
			return time.Now(), stamp
		}
		time.Sleep(20 * time.Millisecond)
	}
	b.Fatalf("Jack did not store line %d within 5 minutes", lines)
	return time.Time{}, time.Time{}
}

// everyLineOnce reports whether Jack holds the worker's lines 1..n of an
// environment, each once, in order.
func everyLineOnce(b *testing.B, api *client.Client, env string, n int) bool {
	next := 1
	err := api.Logs(context.Background(), jack.LogQuery{App: "notes", Env: env, Process: "worker", Since: time.Now().Add(-time.Hour)},
		func(r *jack.LogRecord) error {
			if num, _, _ := strings.Cut(string(r.Line), " "); num != strconv.Itoa(next) {
				return fmt.Errorf("line %d is %.20q", next, r.Line)
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
func followLatency(b *testing.B, d *daemon, api *client.Client, env string, k int) (time.Duration, time.Duration, time.Duration) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	got := make(chan string, 1000)
	go api.Logs(ctx, jack.LogQuery{App: "notes", Env: env, Process: "web", Follow: true, N: 1}, func(r *jack.LogRecord) error {
		got <- string(r.Line)
		return nil
	})
	var lat []time.Duration
	for i := range k {
		msg := fmt.Sprintf("latency-%d", i)
		written := time.Now()
		d.body(env+".notes.localhost", "/log?msg="+msg)
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
// that counts the numbered lines 1..n of one instance. It costs little per
// line (no allocation, a lock per read), since it shares the machine with
// what it measures.
type syslogCounter struct {
	ln       net.Listener
	instance []byte
	mu       sync.Mutex
	seen     []bool // by line number
	received int
	twice    int
	last     time.Time
}

func newSyslogCounter(b *testing.B, instance string, n int) *syslogCounter {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { ln.Close() })
	s := &syslogCounter{ln: ln, instance: []byte(instance), seen: make([]bool, n+1)}
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
	var msg, nums []byte
	var got []int
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
		// <PRI>1 TIMESTAMP HOST APP PROCID MSGID [SD] MSG: PROCID is the
		// fifth field.
		rest := msg
		for range 4 {
			if i := bytes.IndexByte(rest, ' '); i >= 0 {
				rest = rest[i+1:]
			}
		}
		if !bytes.HasPrefix(rest, s.instance) || len(rest) <= len(s.instance) || rest[len(s.instance)] != ' ' {
			continue
		}
		i := bytes.Index(msg, []byte("] "))
		nums, _, _ = bytes.Cut(msg[i+2:], []byte(" "))
		if num, err := strconv.Atoi(string(nums)); err == nil {
			got = append(got, num)
		}
		if br.Buffered() == 0 {
			s.count(got)
			got = got[:0]
		}
	}
}

// count records the numbers received.
func (s *syslogCounter) count(nums []int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, num := range nums {
		switch {
		case num < 1 || num >= len(s.seen):
		case s.seen[num]:
			s.twice++
		default:
			s.seen[num] = true
			s.received++
			s.last = time.Now()
		}
	}
}

func (s *syslogCounter) unique() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.received
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
	return s.received == n && n == len(s.seen)-1 && s.twice == 0
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
