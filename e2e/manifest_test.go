package e2e

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// writeFile writes a file into a fresh folder and returns its path.
func writeTemp(t *testing.T, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// A Procfile brings its processes and its release line; a worker process
// is scaled on its own, restarted when it dies, and never routed.
func TestDeployAProcfile(t *testing.T) {
	d := startDaemon(t)
	djangoImages(t, d.cli)
	d.ok("apps", "create", "notes")
	d.ok("envs", "create", "notes/production")
	procfile := writeTemp(t, "Procfile", `# Heroku's format
web: python3 manage.py migrate --noinput && exec gunicorn --bind 0.0.0.0:$PORT notesite.wsgi
worker: sh -c 'while true; do echo working; sleep 1; done'
release: python3 manage.py check
`)
	// No volume here: each web instance has its database in /tmp.
	d.ok("config", "set", "notes/production", "DATABASE_PATH=/tmp/db.sqlite3")
	out := d.ok("deploy", "notes/production", "--image", "jack-e2e-django:v1", "-f", procfile, "--timeout", "60s")
	if !strings.Contains(out, "release | System check identified no issues") || !strings.Contains(out, "web ×1, worker ×1") {
		t.Fatalf("deploy of the Procfile:\n%s", out)
	}
	if b := d.body(host, "/"); b != "version=v1 notes=hello\n" {
		t.Fatalf("web answers %q", b)
	}
	d.ok("scale", "notes/production", "worker=2")
	workers := func() []map[string]string {
		var out []map[string]string
		for _, c := range d.containers() {
			if c["dev.jack.process"] == "worker" {
				out = append(out, c)
			}
		}
		return out
	}
	if n := len(workers()); n != 2 {
		t.Fatalf("%d workers after scaling to 2", n)
	}
	ps := d.ok("ps", "notes/production")
	if strings.Count(ps, "worker.") != 2 || strings.Count(ps, "web.") != 1 {
		t.Fatalf("jack ps:\n%s", ps)
	}
	// A worker that dies is replaced.
	victim := ""
	for _, c := range d.containerIDs() {
		if info, err := d.cli.ContainerInspect(t.Context(), c); err == nil && info.Config.Labels["dev.jack.process"] == "worker" {
			victim = c
			break
		}
	}
	if err := d.cli.ContainerKill(t.Context(), victim, "KILL"); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the dead worker to be replaced", 30*time.Second, func() bool {
		ws := workers()
		if len(ws) != 2 {
			return false
		}
		for _, id := range d.containerIDs() {
			if id == victim {
				return false
			}
		}
		return true
	})
}

// A Dockerrun.aws.json version 1 names the image, the port, the command
// and volumes; version 2 is refused with the reason.
func TestDeployADockerrunFile(t *testing.T) {
	d := startDaemon(t)
	djangoImages(t, d.cli)
	d.ok("apps", "create", "notes")
	d.ok("envs", "create", "notes/production")
	dockerrun := writeTemp(t, "Dockerrun.aws.json", `{
  "AWSEBDockerrunVersion": "1",
  "Image": {"Name": "jack-e2e-django:v1", "Update": "false"},
  "Ports": [{"ContainerPort": 8000}],
  "Volumes": [{"HostDirectory": "/var/app/data", "ContainerDirectory": "/data"}],
  "Logging": "/var/log/notes",
  "Entrypoint": "sh",
  "Command": "-c 'python3 manage.py migrate && exec gunicorn --bind 0.0.0.0:8000 notesite.wsgi'"
}`)
	// No --image: the file names it.
	d.ok("deploy", "notes/production", "-f", dockerrun, "--timeout", "60s")
	if b := d.body(host, "/"); b != "version=v1 notes=hello\n" {
		t.Fatalf("the Dockerrun deploy answers %q", b)
	}
	if vols := d.volumes(); len(vols) != 2 {
		t.Fatalf("volumes %v; want data and logs", vols)
	}
	v2 := writeTemp(t, "Dockerrun.aws.json", `{
  "AWSEBDockerrunVersion": 2,
  "containerDefinitions": [{"name": "web", "image": "jack-e2e-django:v1"}]
}`)
	r := d.jack("deploy", "notes/production", "-f", v2)
	if r.code != 1 || !strings.Contains(r.stderr, "Dockerrun.aws.json:2: AWSEBDockerrunVersion 2 describes a multi-container (ECS) environment, which Jack does not support") {
		t.Fatalf("version 2: exit %d %q", r.code, r.stderr)
	}
}

// Bad manifests are refused before anything starts, with the file, the
// line and the key.
func TestBadManifestsAreRefused(t *testing.T) {
	d := startDaemon(t)
	djangoImages(t, d.cli)
	d.ok("apps", "create", "notes")
	d.ok("envs", "create", "notes/production")
	for _, tc := range []struct{ name, content, want string }{
		{"jack.yaml", "cron:\n  - {name: c, schedule: \"61 * * * *\", command: date}\n",
			`jack: jack.yaml:2: cron[0].schedule: schedule "61 * * * *": minute field "61" is out of range (0-59)`},
		{"jack.yaml", "volumes:\n  data: data\n",
			`jack: jack.yaml:2: volumes.data: path "data" is not absolute; give the path in the container, such as /data`},
		{"Procfile", "web: gunicorn app\nworker: celery\nweb: other\n",
			`jack: Procfile:3: process web is defined twice (first on line 1); keep one line per name`},
	} {
		r := d.jack("deploy", "notes/production", "--image", "jack-e2e-django:v1", "-f", writeTemp(t, tc.name, tc.content))
		if r.code != 1 || strings.TrimSpace(r.stderr) != tc.want {
			t.Errorf("%s: exit %d %q\nwant %q", tc.name, r.code, r.stderr, tc.want)
		}
	}
	if out := d.ok("releases", "notes/production"); !strings.Contains(out, "No releases") {
		t.Fatalf("a refused deploy made a release:\n%s", out)
	}
	if cs := d.containers(); len(cs) != 0 {
		t.Fatalf("a refused deploy started containers: %v", cs)
	}
}
