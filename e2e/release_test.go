package e2e

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/api/types/volume"
)

// removeVolumes removes the daemon's volumes.
func (d *daemon) removeVolumes(ctx context.Context) {
	for _, v := range d.volumes() {
		if err := d.cli.VolumeRemove(ctx, v, true); err != nil {
			d.t.Logf("remove volume %s: %v", v, err)
		}
	}
}

// volumes returns the names of the daemon's volumes.
func (d *daemon) volumes() []string {
	if d.owner == "" {
		return nil
	}
	list, err := d.cli.VolumeList(context.Background(), volume.ListOptions{Filters: filters.NewArgs(filters.Arg("label", "dev.jack.owner="+d.owner))})
	if err != nil {
		d.t.Fatalf("list volumes: %v", err)
	}
	var names []string
	for _, v := range list.Volumes {
		names = append(names, v.Name)
	}
	return names
}

// The Django site's release command migrates SQLite on a volume before
// traffic moves: v2, whose pages read a column its migration adds, deploys
// with no failed request; v3, whose migration fails, leaves v2 serving.
// The volume outlives deploys and a rollback, and goes only with
// `envs delete --volumes`.
func TestReleaseCommandMigratesWithoutAFailedRequest(t *testing.T) {
	d := startDaemon(t)
	djangoImages(t, d.cli)
	d.ok("apps", "create", "notes")
	d.ok("envs", "create", "notes/production")
	// No -f: the manifest comes from /jack.yaml in the image.
	out := d.ok("deploy", "notes/production", "--image", "jack-e2e-django:v1")
	if !strings.Contains(out, "release |   Applying notes.0001_initial... OK") {
		t.Fatalf("the release command's output is not in the deploy's:\n%s", out)
	}
	if strings.Index(out, "Release command succeeded") > strings.Index(out, "Starting web.1") {
		t.Fatalf("an instance started before the release command ended:\n%s", out)
	}
	if b := d.body(host, "/"); b != "version=v1 notes=hello\n" {
		t.Fatalf("v1 answers %q", b)
	}
	if v := d.ok("versions", "notes"); !strings.Contains(strings.Join(strings.Fields(v), " "), "v1 jack-e2e-django:v1") || !strings.Contains(v, " image ") {
		t.Fatalf("the version's manifest does not say it came from the image:\n%s", v)
	}

	d.ok("scale", "notes/production", "web=2")
	l := d.load(host, 6)
	out = d.ok("deploy", "notes/production", "--image", "jack-e2e-django:v2")
	if !strings.Contains(out, "Applying notes.0002_note_title... OK") {
		t.Fatalf("v2's migration did not run:\n%s", out)
	}
	r := d.jack("deploy", "notes/production", "--image", "jack-e2e-django:v3")
	l.end(t)
	if r.code != 1 || !strings.Contains(r.stderr, "release command exited with code 1; release 3 still serves") ||
		!strings.Contains(r.stderr, "RuntimeError: migration 0003 fails on purpose") {
		t.Fatalf("deploy of v3: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if strings.Contains(r.stdout, "Starting web") {
		t.Fatalf("the failed release started instances:\n%s", r.stdout)
	}
	if b := d.body(host, "/"); b != "version=v2 notes=untitled:hello\n" {
		t.Fatalf("after the failed v3, the site answers %q", b)
	}

	// Data written by a one-off run stays across a rollback and a deploy.
	d.ok("run", "notes/production", "--", "python3", "manage.py", "shell", "-c",
		"from notes.models import Note; Note.objects.create(text='kept', title='t')")
	// A rollback that changes the version runs that version's release
	// command; --skip-release leaves it out.
	if out := d.ok("rollback", "notes/production", "--to", "1"); !strings.Contains(out, "release |   No migrations to apply.") {
		t.Fatalf("a rollback to another version did not run its release command:\n%s", out)
	}
	if out := d.ok("deploy", "notes/production", "--version", "v2", "--skip-release"); strings.Contains(out, "Running release command") {
		t.Fatalf("--skip-release ran the release command:\n%s", out)
	}
	if b := d.body(host, "/"); b != "version=v2 notes=untitled:hello, t:kept\n" {
		t.Fatalf("the volume's data is not kept: %q", b)
	}
	if out := d.ok("config", "set", "notes/production", "A=1"); strings.Contains(out, "Running release command") {
		t.Fatalf("a config change ran the release command:\n%s", out)
	}
	if out := d.ok("rollback", "notes/production", "--force-release"); !strings.Contains(out, "Running release command") {
		t.Fatalf("--force-release did not run the release command:\n%s", out)
	}

	if vols := d.volumes(); len(vols) != 1 {
		t.Fatalf("volumes: %v, want the environment's one", vols)
	}
	d.ok("envs", "delete", "notes/production", "--yes")
	if vols := d.volumes(); len(vols) != 1 {
		t.Fatalf("volumes after a delete without --volumes: %v, want it kept", vols)
	}
	d.ok("envs", "create", "notes/production")
	d.ok("deploy", "notes/production", "--version", "v2")
	if b := d.body(host, "/"); !strings.Contains(b, "t:kept") {
		t.Fatalf("a new environment of the same name did not get the kept volume: %q", b)
	}
	d.ok("envs", "delete", "notes/production", "--yes", "--volumes")
	if vols := d.volumes(); len(vols) != 0 {
		t.Fatalf("volumes after delete --volumes: %v", vols)
	}
}

// A release command that is not in the image fails the deploy before any
// instance starts, saying so.
func TestReleaseCommandNotFound(t *testing.T) {
	d := startDaemon(t)
	djangoImages(t, d.cli)
	d.ok("apps", "create", "notes")
	d.ok("envs", "create", "notes/production")
	d.ok("deploy", "notes/production", "--image", "jack-e2e-django:v1")
	manifest := filepath.Join(t.TempDir(), "jack.yaml")
	os.WriteFile(manifest, []byte("processes:\n  web: {command: gunicorn --bind 0.0.0.0:8000 notesite.wsgi, port: 8000}\nrelease: migrate-everything --now\nvolumes: {data: /data}\n"), 0o644)
	r := d.jack("deploy", "notes/production", "--image", "jack-e2e-django:v2", "-f", manifest)
	if r.code != 1 || !strings.Contains(r.stderr, `release command "migrate-everything" is not found in the image`) || strings.Contains(r.stdout, "Starting") {
		t.Fatalf("exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if b := d.body(host, "/"); !strings.Contains(b, "version=v1") {
		t.Fatalf("after the failed deploy: %q", b)
	}
}

// A release command that runs past deploy.release_timeout is stopped and
// fails the deploy.
func TestReleaseTimeout(t *testing.T) {
	d := startDaemon(t)
	djangoImages(t, d.cli)
	d.ok("apps", "create", "notes")
	d.ok("envs", "create", "notes/production")
	manifest := filepath.Join(t.TempDir(), "jack.yaml")
	os.WriteFile(manifest, []byte("processes:\n  web: {command: gunicorn --bind 0.0.0.0:8000 notesite.wsgi, port: 8000}\nrelease: [sh, -c, 'echo migrating; exec sleep 60']\ndeploy: {release_timeout: 1s}\n"), 0o644)
	start := time.Now()
	r := d.jack("deploy", "notes/production", "--image", "jack-e2e-django:v1", "-f", manifest)
	if r.code != 1 || !strings.Contains(r.stderr, "release command timed out after 1s") || !strings.Contains(r.stdout, "release | migrating") {
		t.Fatalf("exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if took := time.Since(start); took > 20*time.Second {
		t.Fatalf("the timed-out release took %s to fail", took)
	}
	if cs := d.containers(); len(cs) != 0 {
		t.Fatalf("containers left after the timed-out release: %v", cs)
	}
}
