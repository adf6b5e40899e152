package e2e

import (
	"context"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/docker/docker/api/types/image"
)

// dockerCLI runs Debian's docker command with its own config folder.
func dockerCLI(t *testing.T, config, stdin string, args ...string) (string, bool) {
	t.Helper()
	cmd := exec.Command("docker", args...)
	cmd.Env = append(os.Environ(), "DOCKER_CONFIG="+config)
	cmd.Stdin = strings.NewReader(stdin)
	out, err := cmd.CombinedOutput()
	return string(out), err == nil
}

func TestCIPushesToJacksRegistryAndThePushIsAVersion(t *testing.T) {
	regAddr := freePort(t)
	d := startDaemon(t, "--registry", regAddr)
	images(t, d.cli)
	d.ok("apps", "create", "notes")
	d.ok("envs", "create", "notes/production")
	config := t.TempDir()

	if out, ok := dockerCLI(t, config, d.token+"\n", "login", regAddr, "-u", "ci", "--password-stdin"); !ok {
		t.Fatalf("docker login with the admin token: %s", out)
	}
	ref := regAddr + "/notes:v7"
	dockerCLI(t, config, "", "tag", "jack-e2e-app:v1", ref)
	t.Cleanup(func() { d.cli.ImageRemove(context.Background(), ref, image.RemoveOptions{}) })
	out, ok := dockerCLI(t, config, "", "push", ref)
	if !ok {
		t.Fatalf("docker push: %s", out)
	}
	// The push becomes version v7 of notes, pinned to the pushed digest.
	deadline := time.Now().Add(30 * time.Second)
	for !strings.Contains(d.ok("versions", "notes"), "v7") {
		if time.Now().After(deadline) {
			t.Fatalf("no version after the push:\n%s\nserver log:\n%s", d.ok("versions", "notes"), d.log)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if js := d.ok("versions", "notes", "--json"); !strings.Contains(js, "/notes@sha256:") {
		t.Fatalf("the version has no digest: %s", js)
	}
	d.ok("deploy", "notes/production", "--version", "v7")
	if b := d.body(host, "/"); !strings.Contains(b, "version=v1") {
		t.Fatalf("after deploying the pushed version: %q", b)
	}

	// With --deploy-on-push, a push of the tag deploys it.
	if r := d.jack("envs", "set", "notes/production", "--deploy-on-push", "not a tag"); r.code != 2 {
		t.Fatalf("a bad tag: exit %d %s", r.code, r.stderr)
	}
	d.ok("envs", "set", "notes/production", "--deploy-on-push", "main")
	buildImage(t, d.cli, "jack-e2e-app:pushed", "ENV APP_VERSION=pushed")
	main := regAddr + "/notes:main"
	dockerCLI(t, config, "", "tag", "jack-e2e-app:pushed", main)
	t.Cleanup(func() { d.cli.ImageRemove(context.Background(), main, image.RemoveOptions{}) })
	if out, ok := dockerCLI(t, config, "", "push", main); !ok {
		t.Fatalf("docker push: %s", out)
	}
	deadline = time.Now().Add(60 * time.Second)
	for !strings.Contains(d.body(host, "/"), "version=pushed") {
		if time.Now().After(deadline) {
			t.Fatalf("the push of notes:main was not deployed; events:\n%s", d.ok("events", "notes/production"))
		}
		time.Sleep(200 * time.Millisecond)
	}
	if ev := d.ok("events", "notes/production"); !strings.Contains(ev, "A push of notes:main deploys version main") {
		t.Fatalf("events say nothing of the push:\n%s", ev)
	}

	// A repository that is no app's is refused, with the reason.
	other := regAddr + "/shop:v1"
	dockerCLI(t, config, "", "tag", "jack-e2e-app:v1", other)
	t.Cleanup(func() { d.cli.ImageRemove(context.Background(), other, image.RemoveOptions{}) })
	if out, ok := dockerCLI(t, config, "", "push", other); ok || !strings.Contains(out, "no app is named shop") {
		t.Fatalf("push to a repository of no app: %s", out)
	}
	if out, ok := dockerCLI(t, t.TempDir(), "not-a-token\n", "login", regAddr, "-u", "ci", "--password-stdin"); ok {
		t.Fatalf("docker login with a wrong token: %s", out)
	}
}
