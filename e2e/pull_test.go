package e2e

import (
	"context"
	"strings"
	"testing"

	"github.com/docker/docker/api/types/image"
	"github.com/jack-paas/jack/internal/dockertest"
)

func TestADeployPullsFromAPrivateRegistryAndPinsTheDigest(t *testing.T) {
	d := startDaemon(t)
	images(t, d.cli)
	reg := dockertest.StartRegistry(t, "ci", "s3cret-e2e")
	ref := reg.Push(t, d.cli, "jack-e2e-app:v1", "notes:v1")
	t.Cleanup(func() { d.cli.ImageRemove(context.Background(), ref, image.RemoveOptions{}) })
	d.ok("apps", "create", "notes")
	d.ok("envs", "create", "notes/production")

	// Without credentials the registry refuses, and nothing changes.
	r := d.jack("deploy", "notes/production", "--image", ref)
	if r.code != 1 || !strings.Contains(r.stdout+r.stderr, "jack registries") {
		t.Fatalf("a deploy without credentials: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if out := d.ok("versions", "notes"); strings.Contains(out, "v1") {
		t.Fatalf("a version after a refused pull: %s", out)
	}

	d.jackIn("s3cret-e2e\n", "registries", "add", reg.Host, "--username", "ci", "--password-stdin")
	out := d.ok("deploy", "notes/production", "--image", ref)
	for _, want := range []string{"Pulling " + ref + " (as ci)", "Pulled " + ref, "pinned to " + reg.Host + "/notes@sha256:"} {
		if !strings.Contains(out, want) {
			t.Errorf("deploy output lacks %q:\n%s", want, out)
		}
	}
	if b := d.body(host, "/"); !strings.Contains(b, "version=v1") {
		t.Fatalf("after the deploy: %q", b)
	}
	if js := d.ok("versions", "notes", "--json"); !strings.Contains(js, reg.Host+"/notes@sha256:") {
		t.Fatalf("the version does not show its digest: %s", js)
	}
}
