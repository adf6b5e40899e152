package e2e

import (
	"fmt"
	"os"
	"os/exec"
	"testing"
	"time"
)

// BenchmarkRun measures, in one run, the time from `jack run APP/ENV --
// true` to its exit next to `docker run --rm IMAGE true` of the same image,
// rounds alternating, and their ratio (target: within 1.3x). bench/run.sh
// runs it. Each figure is the median of the rounds; b.N is ignored.
func BenchmarkRun(b *testing.B) {
	rounds := benchRounds(15)
	d := startDaemon(b)
	djangoImages(b, d.cli)
	d.ok("apps", "create", "notes")
	d.ok("envs", "create", "notes/production")
	manifest := writeTempB(b, "processes:\n  web: {command: python3 -m http.server 8000, port: 8000}\n")
	d.ok("deploy", "notes/production", "--image", "jack-e2e-django:v1", "-f", manifest)
	d.ok("run", "notes/production", "--", "true") // warm both paths once
	exec.Command("docker", "run", "--rm", "jack-e2e-django:v1", "true").Run()

	var jackTimes, dockerTimes []time.Duration
	for range rounds {
		dockerTimes = append(dockerTimes, timed(func() {
			if out, err := exec.Command("docker", "run", "--rm", "jack-e2e-django:v1", "true").CombinedOutput(); err != nil {
				b.Fatalf("docker run: %v %s", err, out)
			}
		}))
		jackTimes = append(jackTimes, timed(func() { d.ok("run", "notes/production", "--", "true") }))
	}
	jackRun, dockerRun := medianOf(jackTimes), medianOf(dockerTimes)
	ratio := float64(jackRun) / float64(dockerRun)
	fmt.Printf("\nJack run benchmark (%d rounds each, alternating, medians)\n", rounds)
	fmt.Printf("  docker run --rm IMAGE true       %8.0f ms\n", ms(dockerRun))
	fmt.Printf("  jack run APP/ENV -- true         %8.0f ms   %.2fx docker run (target <= 1.3x)\n", ms(jackRun), ratio)
	b.ReportMetric(ratio, "run/docker-run")
	b.ReportMetric(ms(jackRun), "jack-run-ms")
	b.ReportMetric(ms(dockerRun), "docker-run-ms")
}

func medianOf(ds []time.Duration) time.Duration {
	i := 0
	return median(len(ds), func() time.Duration { i++; return ds[i-1] })
}

// writeTempB writes a manifest into a fresh folder and returns its path.
func writeTempB(b *testing.B, content string) string {
	p := b.TempDir() + "/jack.yaml"
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		b.Fatal(err)
	}
	return p
}
