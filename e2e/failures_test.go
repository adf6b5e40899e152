package e2e

import (
	"os"
	"strings"
	"testing"
)

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// Each way a deploy fails leaves v1 serving, removes the new containers,
// and makes `jack deploy` exit 1 with the reason.
func TestFailedDeploysChangeNothing(t *testing.T) {
	d := startDaemon(t)
	images(t, d.cli)
	buildImage(t, d.cli, "jack-e2e-app:exits", "ENV EXIT_AT_START=3")
	buildImage(t, d.cli, "jack-e2e-app:sick", "ENV FAIL_HEALTH=1")
	d.ok("apps", "create", "notes")
	d.ok("envs", "create", "notes/production")
	d.ok("deploy", "notes/production", "--image", "jack-e2e-app:v1")
	manifest := t.TempDir() + "/jack.yaml"
	writeFile(t, manifest, "processes:\n  web:\n    health: {path: /health}\n")

	cases := []struct {
		name string
		args []string
		want []string
	}{
		{"container exits", []string{"--image", "jack-e2e-app:exits"}, []string{"exited with code 3", "boom: failing on purpose"}},
		// The timeout leaves a busy engine time to start the container:
		// what fails must be the health check.
		{"health never passes", []string{"--image", "jack-e2e-app:sick", "-f", manifest, "--timeout", "10s"}, []string{"did not pass its health check"}},
		{"missing image", []string{"--image", "jack-e2e-app:missing"}, []string{"jack-e2e-app:missing"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			l := d.load(host, 4)
			r := d.jack(append([]string{"deploy", "notes/production"}, c.args...)...)
			l.end(t)
			if r.code != 1 {
				t.Fatalf("exit %d; want 1\n%s%s", r.code, r.stdout, r.stderr)
			}
			all := r.stdout + r.stderr
			for _, w := range c.want {
				if !strings.Contains(all, w) {
					t.Fatalf("output lacks %q:\n%s", w, all)
				}
			}
			if b := d.body(host, "/"); !strings.Contains(b, "version=v1") {
				t.Fatalf("after the failure: %q", b)
			}
			eventually(t, "only v1 running", 10e9, func() bool {
				cs := d.containers()
				return len(cs) == 1 && cs[0]["dev.jack.version"] == "v1"
			})
		})
	}
}
