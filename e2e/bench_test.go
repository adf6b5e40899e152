package e2e

import (
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"
)

// BenchmarkDeploy measures, in one run, the numbers the core issue sets
// targets for (bench/deploy.sh runs it):
//
//   - the time of `jack deploy` of a one-instance environment with the image
//     present, next to the floor: plain `docker run` plus the first
//     successful HTTP answer of the same image; and their ratio;
//   - the same for `jack rollback`;
//   - requests served and failed during 20 deploys under constant load;
//   - the resident memory of the daemon and of the router with 10 apps deployed.
//
// Each figure is the median of several rounds. b.N is ignored: the rounds
// are what is measured.
func BenchmarkDeploy(b *testing.B) {
	rounds := benchRounds(7)
	d := startDaemon(b)
	images(d.t, d.cli)
	d.ok("apps", "create", "notes")
	d.ok("envs", "create", "notes/production")
	d.ok("deploy", "notes/production", "--image", "jack-e2e-app:v1")

	floor := median(rounds, func() time.Duration { return dockerRunFloor(b, "jack-e2e-app:v2") })
	tags := []string{"jack-e2e-app:v2", "jack-e2e-app:v1"}
	i := 0
	deploy := median(rounds, func() time.Duration {
		i++
		return timed(func() { d.ok("deploy", "notes/production", "--image", tags[i%2]) })
	})
	rollback := median(rounds, func() time.Duration {
		return timed(func() { d.ok("rollback", "notes/production") })
	})

	l := d.load(host, 8)
	for n := range 20 {
		d.ok("deploy", "notes/production", "--image", tags[n%2])
	}
	close(l.stop)
	l.wg.Wait()

	for n := range 9 {
		app := fmt.Sprintf("bench%d", n)
		d.ok("apps", "create", app)
		d.ok("envs", "create", app+"/production")
		d.ok("deploy", app+"/production", "--image", "jack-e2e-app:v1")
	}
	daemonRSS := rssKiB(d.cmd.Process.Pid)
	routerPID, _ := os.ReadFile(d.data + "/router.pid")
	pid, _ := strconv.Atoi(strings.TrimSpace(string(routerPID)))
	routerRSS := rssKiB(pid)

	fmt.Printf("\nJack deploy benchmark (%d rounds each, medians)\n", rounds)
	fmt.Printf("  docker run + first HTTP answer   %8.0f ms\n", ms(floor))
	fmt.Printf("  jack deploy (1 instance)         %8.0f ms   %.2fx the floor (target <= 1.5x)\n", ms(deploy), float64(deploy)/float64(floor))
	fmt.Printf("  jack rollback (1 instance)       %8.0f ms   %.2fx the floor (target <= 1.5x)\n", ms(rollback), float64(rollback)/float64(floor))
	fmt.Printf("  20 deploys under load            %8d requests served, %d failed (target 0)\n", l.ok.Load(), l.failed.Load())
	fmt.Printf("  jack server RSS, 10 apps         %8.1f MiB\n", float64(daemonRSS)/1024)
	fmt.Printf("  jack router RSS, 10 apps         %8.1f MiB\n", float64(routerRSS)/1024)
	b.ReportMetric(float64(deploy)/float64(floor), "deploy/floor")
	b.ReportMetric(float64(rollback)/float64(floor), "rollback/floor")
	b.ReportMetric(float64(l.failed.Load()), "failed-requests")
	b.ReportMetric(float64(daemonRSS)/1024, "server-MiB")
}

// dockerRunFloor is what a deploy can't beat: `docker run` of the image on
// Jack's network and polling it until it answers 200.
func dockerRunFloor(b *testing.B, image string) time.Duration {
	start := time.Now()
	out, err := exec.Command("docker", "run", "-d", "--network", "jack", "-l", "dev.jack.test=true", image).Output()
	if err != nil {
		b.Fatalf("docker run: %v", err)
	}
	id := strings.TrimSpace(string(out))
	defer exec.Command("docker", "rm", "-f", id).Run()
	ipOut, err := exec.Command("docker", "inspect", "-f", "{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}", id).Output()
	if err != nil {
		b.Fatalf("docker inspect: %v", err)
	}
	url := "http://" + strings.TrimSpace(string(ipOut)) + ":8080/"
	c := &http.Client{Timeout: time.Second}
	for {
		resp, err := c.Get(url)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return time.Since(start)
			}
		}
		if time.Since(start) > 30*time.Second {
			b.Fatal("the container never answered")
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// benchRounds returns JACK_BENCH_ROUNDS, else def.
func benchRounds(def int) int {
	if n, err := strconv.Atoi(os.Getenv("JACK_BENCH_ROUNDS")); err == nil && n > 0 {
		return n
	}
	return def
}

func timed(f func()) time.Duration {
	start := time.Now()
	f()
	return time.Since(start)
}

func median(n int, f func() time.Duration) time.Duration {
	ds := make([]time.Duration, n)
	for i := range ds {
		ds[i] = f()
	}
	sort.Slice(ds, func(a, b int) bool { return ds[a] < ds[b] })
	return ds[n/2]
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// rssKiB reads a process's resident memory from /proc.
func rssKiB(pid int) int {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, "VmRSS:") {
			f := strings.Fields(line)
			n, _ := strconv.Atoi(f[1])
			return n
		}
	}
	return 0
}
