package e2e

import (
	"strings"
	"testing"
	"time"
)

// Not one request fails through deploys, a rollback, a config change, a
// scale-down and a restart.
func TestNoRequestFailsUnderLoad(t *testing.T) {
	d := startDaemon(t)
	images(t, d.cli)
	d.ok("apps", "create", "notes")
	d.ok("envs", "create", "notes/production")
	d.ok("deploy", "notes/production", "--image", "jack-e2e-app:v1")
	l := d.load(host, 8)
	d.ok("scale", "notes/production", "web=3")
	d.ok("deploy", "notes/production", "--image", "jack-e2e-app:v2")
	d.ok("rollback", "notes/production")
	d.ok("config", "set", "notes/production", "SECRET_KEY=s3cret")
	d.ok("scale", "notes/production", "web=1")
	d.ok("restart", "notes/production")
	d.ok("deploy", "notes/production", "--image", "jack-e2e-app:v2", "--strategy", "immutable")
	l.end(t)
	if b := d.body(host, "/"); !strings.Contains(b, "version=v2") {
		t.Fatalf("at the end: %q", b)
	}
}

// SIGKILL of the daemon in the middle of a deploy drops no request: the
// router serves on, and the restarted daemon undoes the deploy, leaving
// neither orphans nor duplicates.
func TestSIGKILLDuringDeploy(t *testing.T) {
	d := startDaemon(t)
	images(t, d.cli)
	buildImage(t, d.cli, "jack-e2e-app:slow", "ENV APP_VERSION=slow START_DELAY=2s")
	d.ok("apps", "create", "notes")
	d.ok("envs", "create", "notes/production")
	d.ok("scale", "notes/production", "web=2")
	d.ok("deploy", "notes/production", "--image", "jack-e2e-app:v1")
	l := d.load(host, 8)
	out := d.ok("deploy", "notes/production", "--image", "jack-e2e-app:slow", "--no-wait")
	eventually(t, "a container of the new version", 20*time.Second, func() bool {
		for _, c := range d.containers() {
			if c["dev.jack.release"] == "2" {
				return true
			}
		}
		return false
	})
	d.kill()
	time.Sleep(500 * time.Millisecond) // the router serves alone
	d.start()
	eventually(t, "the interrupted deploy to be undone", 30*time.Second, func() bool {
		cs := d.containers()
		return len(cs) == 2 && cs[0]["dev.jack.release"] == "1" && cs[1]["dev.jack.release"] == "1"
	})
	l.end(t)
	id := strings.TrimSpace(out)
	if st := d.ok("releases", "notes/production"); !strings.Contains(st, "failed") {
		t.Fatalf("releases after the interrupted deploy %s:\n%s", id, st)
	}
	// The next deploy works as usual.
	d.ok("deploy", "notes/production", "--image", "jack-e2e-app:v2")
	if b := d.body(host, "/"); !strings.Contains(b, "version=v2") {
		t.Fatalf("after the next deploy: %q", b)
	}
}

// A container that dies is replaced without anyone asking, with an event
// that says why.
func TestADeadContainerIsReplaced(t *testing.T) {
	d := startDaemon(t)
	images(t, d.cli)
	d.ok("apps", "create", "notes")
	d.ok("envs", "create", "notes/production")
	d.ok("deploy", "notes/production", "--image", "jack-e2e-app:v1")
	before := d.containerIDs()
	d.get(host, "/exit?code=7")
	eventually(t, "a replacement container", 20*time.Second, func() bool {
		ids := d.containerIDs()
		return len(ids) == 1 && ids[0] != before[0]
	})
	eventually(t, "the replacement to serve", 20*time.Second, func() bool {
		code, _, _ := d.get(host, "/")
		return code == 200
	})
	eventually(t, "an event saying why", 5*time.Second, func() bool {
		return strings.Contains(d.ok("events", "notes/production"), "web.1 exited with code 7")
	})
}

// SIGTERM stops the daemon cleanly and leaves the app serving; started
// again, the daemon adopts the very same containers.
func TestSIGTERMLeavesContainersServing(t *testing.T) {
	d := startDaemon(t)
	images(t, d.cli)
	d.ok("apps", "create", "notes")
	d.ok("envs", "create", "notes/production")
	d.ok("deploy", "notes/production", "--image", "jack-e2e-app:v1")
	before := d.containerIDs()
	l := d.load(host, 4)
	d.stop()
	if code := d.cmd.ProcessState.ExitCode(); code != 0 {
		t.Fatalf("jack server exited %d on SIGTERM:\n%s", code, d.log)
	}
	time.Sleep(300 * time.Millisecond) // served by the router alone
	d.start()
	d.ok("ps", "notes/production")
	l.end(t)
	if after := d.containerIDs(); strings.Join(after, ",") != strings.Join(before, ",") {
		t.Fatalf("containers before %v, after the restart %v; want the same", before, after)
	}
}
