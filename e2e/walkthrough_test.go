package e2e

import (
	"strings"
	"testing"
)

const host = "production.notes.localhost"

// The walkthrough of the core issue, command by command.
func TestWalkthrough(t *testing.T) {
	d := startDaemon(t)
	images(t, d.cli)

	d.ok("apps", "create", "notes")
	d.ok("envs", "create", "notes/production")
	out := d.ok("deploy", "notes/production", "--image", "jack-e2e-app:v1")
	for _, want := range []string{"Starting web.1", "healthy", "Release 1 (v1) serves", "http://production.notes.localhost"} {
		if !strings.Contains(out, want) {
			t.Fatalf("deploy output lacks %q:\n%s", want, out)
		}
	}
	if b := d.body(host, "/"); !strings.Contains(b, "version=v1 release=1") {
		t.Fatalf("after deploy: %q", b)
	}

	d.ok("config", "set", "notes/production", "SECRET_KEY=s3cret", "DATABASE_URL=postgres://db/notes")
	if b := d.body(host, "/env/SECRET_KEY"); b != "s3cret" {
		t.Fatalf("SECRET_KEY = %q", b)
	}
	if list := d.ok("config", "notes/production"); strings.Contains(list, "s3cret") || !strings.Contains(list, "SECRET_KEY") {
		t.Fatalf("config listing must mask values:\n%s", list)
	}
	if v := d.ok("config", "get", "notes/production", "SECRET_KEY"); strings.TrimSpace(v) != "s3cret" {
		t.Fatalf("config get = %q", v)
	}

	d.ok("scale", "notes/production", "web=3")
	if n := len(d.containers()); n != 3 {
		t.Fatalf("%d containers after scale web=3", n)
	}
	d.ok("deploy", "notes/production", "--image", "jack-e2e-app:v2")
	if b := d.body(host, "/"); !strings.Contains(b, "version=v2") {
		t.Fatalf("after v2: %q", b)
	}
	out = d.ok("rollback", "notes/production")
	if b := d.body(host, "/"); !strings.Contains(b, "version=v1") {
		t.Fatalf("after rollback: %q\n%s", b, out)
	}
	if b := d.body(host, "/env/SECRET_KEY"); b != "s3cret" {
		t.Fatalf("rollback lost config: %q", b)
	}

	if v := d.ok("versions", "notes"); !strings.Contains(v, "v1") || !strings.Contains(v, "v2") {
		t.Fatalf("versions:\n%s", v)
	}
	if r := d.ok("releases", "notes/production"); !strings.Contains(r, "Rollback to") {
		t.Fatalf("releases:\n%s", r)
	}
	if ps := d.ok("ps", "notes/production"); strings.Count(ps, "web.") != 3 || !strings.Contains(ps, "healthy") {
		t.Fatalf("ps:\n%s", ps)
	}
	if ev := d.ok("events", "notes/production"); !strings.Contains(ev, "succeeded") {
		t.Fatalf("events:\n%s", ev)
	}
	if st := d.ok("status", "notes/production"); !strings.Contains(st, "http://production.notes.localhost") {
		t.Fatalf("status:\n%s", st)
	}
	before := d.containers()
	d.ok("restart", "notes/production")
	after := d.containers()
	if len(after) != 3 {
		t.Fatalf("%d containers after restart", len(after))
	}
	for _, a := range after {
		for _, b := range before {
			if a["dev.jack.slot"] == b["dev.jack.slot"] && a["dev.jack.spec"] == b["dev.jack.spec"] && a["dev.jack.release"] == b["dev.jack.release"] && a["dev.jack.deployment"] == b["dev.jack.deployment"] {
				t.Fatalf("restart kept a container: %v", a)
			}
		}
	}
}

// Bad input gets a one-line error and the right exit status.
func TestBadInput(t *testing.T) {
	d := startDaemon(t)
	d.ok("apps", "create", "notes")
	cases := []struct {
		args []string
		code int
		want string
	}{
		{[]string{"apps", "create", "Bad_Name"}, 2, "not valid"},
		{[]string{"envs", "create", "nope/production"}, 1, "app nope does not exist"},
		{[]string{"deploy", "notes/production", "--image", "x:v1"}, 1, "does not exist"},
		{[]string{"deploy", "notes"}, 2, ""},
		{[]string{"config", "set", "notes/production", "NOVALUE"}, 2, ""},
	}
	for _, c := range cases {
		r := d.jack(c.args...)
		if r.code != c.code || !strings.Contains(r.stderr, c.want) {
			t.Errorf("jack %s: exit %d, stderr %q; want %d and %q", strings.Join(c.args, " "), r.code, r.stderr, c.code, c.want)
		}
		if strings.Count(strings.TrimSpace(r.stderr), "\n") > 0 && c.code == 1 {
			t.Errorf("jack %s: error is not one line: %q", strings.Join(c.args, " "), r.stderr)
		}
	}
	d.ok("envs", "create", "notes/production")
	r := d.jack("deploy", "notes/production", "--image", "no-such-image:v9")
	if r.code != 1 || !strings.Contains(r.stderr, "no-such-image:v9") {
		t.Fatalf("missing image: %d %q", r.code, r.stderr)
	}
	bad := t.TempDir() + "/jack.yaml"
	writeFile(t, bad, "processes:\n  web:\n    comand: x\n")
	r = d.jack("deploy", "notes/production", "--image", "no-such-image:v9", "-f", bad)
	if r.code != 1 || !strings.Contains(r.stderr, `unknown key "comand"`) {
		t.Fatalf("bad manifest: %d %q", r.code, r.stderr)
	}
	r = d.jack("apps")
	if r.code != 0 {
		t.Fatal(r.stderr)
	}
	wrong := d.token
	d.token = "jack_wrong"
	r = d.jack("apps")
	d.token = wrong
	if r.code != 1 || !strings.Contains(r.stderr, "token") {
		t.Fatalf("wrong token: %d %q", r.code, r.stderr)
	}
}
