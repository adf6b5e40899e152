package e2e

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// BenchmarkMetrics measures what collecting metrics costs the daemon
// (bench/metrics.sh runs it): its CPU share of one core and its resident
// memory over a window, in four phases of one run:
//
//  1. idle: no containers, sampling every 10s;
//  2. 200 running containers (4 worker environments of 50), sampled every
//     10s from their cgroup files (the default on this machine);
//  3. the same 200, sampled every 10s through the engine's one-shot stats;
//  4. the same 200 with sampling off (an interval of an hour): the daemon's
//     own cost of 200 containers, which 2 and 3 are compared with.
//
// Targets: under 2% of one core and under 100 MiB while sampling 200
// containers every 10s. JACK_BENCH_WINDOW sets the window (default 60s).
func BenchmarkMetrics(b *testing.B) {
	window := time.Minute
	if s := os.Getenv("JACK_BENCH_WINDOW"); s != "" {
		window, _ = time.ParseDuration(s)
	}
	const envs, perEnv = 4, 50
	d := startDaemon(b, "--metrics-interval", "10s")
	buildImage(b, d.cli, "jack-e2e-app:v1", "ENV APP_VERSION=v1")
	idle := measure(d, window)

	manifest := filepath.Join(b.TempDir(), "jack.yaml")
	os.WriteFile(manifest, fmt.Appendf(nil, "processes:\n  worker: {command: [worker], instances: %d, memory: 16m}\n", perEnv), 0o644)
	d.ok("apps", "create", "bench")
	for i := range envs {
		ref := fmt.Sprintf("bench/w%d", i)
		d.ok("envs", "create", ref, "--tier", "worker")
		d.ok("deploy", ref, "--image", "jack-e2e-app:v1", "-f", manifest)
	}
	if n := len(d.containers()); n != envs*perEnv {
		b.Fatalf("%d containers run; want %d", n, envs*perEnv)
	}
	settle := 15 * time.Second
	time.Sleep(settle) // let the deploys' work end before measuring
	cgroup := measure(d, window)

	restart := func(flags ...string) {
		d.stop()
		d.extra = flags
		d.start()
		time.Sleep(settle) // adoption and the first heal
	}
	restart("--metrics-interval", "10s", "--stats-source", "engine")
	engine := measure(d, window)
	restart("--metrics-interval", "1h")
	off := measure(d, window)
	if n := len(d.containers()); n != envs*perEnv {
		b.Fatalf("%d containers after the restarts; want %d", n, envs*perEnv)
	}

	fmt.Printf("\nJack metrics collection benchmark (window %s, jack server process)\n", window)
	fmt.Printf("  %-46s %8s %10s %9s\n", "phase", "CPU", "RSS", "dockerd")
	for _, p := range []struct {
		name string
		m    usage
	}{
		{"idle, no containers, sampling every 10s", idle},
		{"200 containers, sampling every 10s (cgroup)", cgroup},
		{"200 containers, sampling every 10s (engine)", engine},
		{"200 containers, sampling off", off},
	} {
		fmt.Printf("  %-46s %7.2f%% %6.1f MiB %8.2f%%\n", p.name, p.m.cpu*100, p.m.rssMiB, p.m.dockerd*100)
	}
	fmt.Printf("  collection cost over sampling off, jack server + dockerd: cgroup %+.2f%% + %+.2f%%, engine %+.2f%% + %+.2f%% of a core\n",
		(cgroup.cpu-off.cpu)*100, (cgroup.dockerd-off.dockerd)*100, (engine.cpu-off.cpu)*100, (engine.dockerd-off.dockerd)*100)
	fmt.Printf("  targets: < 2%% of one core and < 100 MiB while sampling 200 containers: CPU %s, memory %s\n",
		verdict(cgroup.cpu < 0.02), verdict(cgroup.rssMiB < 100))
	b.ReportMetric(cgroup.cpu*100, "cpu-%")
	b.ReportMetric(cgroup.rssMiB, "rss-MiB")
	b.ReportMetric(engine.cpu*100, "engine-cpu-%")
	b.ReportMetric(off.cpu*100, "off-cpu-%")
}

// usage is a process's CPU share of one core over a window and its
// largest resident memory seen in it, with dockerd's CPU share over the
// same window (the engine's side of sampling; the engine is shared with
// whatever else runs on the machine, so it is noisier).
type usage struct {
	cpu     float64
	rssMiB  float64
	dockerd float64
}

// measure samples the daemon's CPU time and memory over window.
func measure(d *daemon, window time.Duration) usage {
	pid := d.cmd.Process.Pid
	engine := dockerdPID()
	start, engineStart, began := cpuTicks(pid), cpuTicks(engine), time.Now()
	var peak int
	for time.Since(began) < window {
		peak = max(peak, rssKiB(pid))
		time.Sleep(time.Second)
	}
	secs := time.Since(began).Seconds()
	used := float64(cpuTicks(pid)-start) / 100 // USER_HZ is 100 on Linux
	engineUsed := float64(cpuTicks(engine)-engineStart) / 100
	return usage{cpu: used / secs, rssMiB: float64(peak) / 1024, dockerd: engineUsed / secs}
}

// dockerdPID returns the pid of the engine's daemon, 0 if not found.
func dockerdPID() int {
	out, err := exec.Command("pidof", "dockerd").Output()
	if err != nil {
		return 0
	}
	pid, _ := strconv.Atoi(strings.Fields(string(out))[0])
	return pid
}

// cpuTicks returns a process's user and system time in clock ticks.
func cpuTicks(pid int) int {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	// Fields after the command name, which is in parentheses.
	f := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+2:]))
	utime, _ := strconv.Atoi(f[11])
	stime, _ := strconv.Atoi(f[12])
	return utime + stime
}

func verdict(ok bool) string {
	if ok {
		return "met"
	}
	return "NOT met"
}
