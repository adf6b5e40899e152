package deploy

import (
	"context"
	"slices"
	"strings"
	"testing"

	jack "github.com/jack-paas/jack"
)

// stepsOf returns a deployment's steps, one per line.
func stepsOf(d *jack.Deployment) string {
	var lines []string
	for _, s := range d.Steps {
		lines = append(lines, s.Message)
	}
	return strings.Join(lines, "\n")
}

func TestAnImageTheEngineLacksIsPulledWithItsProgressAndPinnedToItsDigest(t *testing.T) {
	h := newHarness(t)
	const ref = "registry.example.com/notes:v3"
	digest := h.rt.addRemote(ref, fakeImage{})
	d, err := h.o.Deploy(context.Background(), jack.DeployRequest{App: "notes", Env: "production", Image: ref})
	if err != nil {
		t.Fatal(err)
	}
	if d.ReleaseNumber != 0 || d.State != jack.DeploymentRunning {
		t.Fatalf("a deployment that pulls first begins as %+v; want running, its release to come", d)
	}
	d = h.wait(d)
	steps := stepsOf(d)
	if d.State != jack.DeploymentSucceeded || d.ReleaseNumber != 1 {
		t.Fatalf("deployment %s, release %d: %s\n%s", d.State, d.ReleaseNumber, d.Reason, steps)
	}
	for _, want := range []string{"Pulling " + ref + " (anonymously)", "Pulled " + ref, "2 layers, 3.0 MB downloaded; pinned to " + digest, "Release 1: v1"} {
		if !strings.Contains(steps, want) {
			t.Errorf("steps lack %q:\n%s", want, steps)
		}
	}
	v, err := h.store.FindVersion(context.Background(), h.env.AppID, "v1")
	if err != nil || v.Digest != digest || v.Image != ref {
		t.Fatalf("version %+v, %v; want it pinned to %s", v, err, digest)
	}
}

func TestPullsUseTheStoredCredentialsAndARefusalChangesNothing(t *testing.T) {
	h := newHarness(t)
	h.deploy(jack.DeployRequest{Image: "notes:v1"})
	const ref = "private.example.com/notes:v2"
	h.rt.addRemote(ref, fakeImage{})
	h.rt.remote.logins["private.example.com"] = jack.RegistryAuth{Username: "ci", Password: "s3cret"}
	h.rt.addRemote("down.example.com/notes:v2", fakeImage{})
	h.rt.remote.down["down.example.com"] = true

	for _, c := range []struct{ ref, reason string }{
		{ref, "check its credentials with `jack registries`"},
		{"down.example.com/notes:v2", "does not answer"},
	} {
		d, err := h.o.Deploy(context.Background(), jack.DeployRequest{App: "notes", Env: "production", Image: c.ref})
		if err != nil {
			t.Fatal(err)
		}
		if d = h.wait(d); d.State != jack.DeploymentFailed || !strings.Contains(d.Reason, c.reason) {
			t.Fatalf("pulling %s: %s %q; want failed saying %q", c.ref, d.State, d.Reason, c.reason)
		}
		if body := h.body(); !strings.Contains(body, "version=v1") {
			t.Fatalf("after a failed pull of %s: %q", c.ref, body)
		}
	}
	if versions, _ := h.store.ListVersions(context.Background(), h.env.AppID); len(versions) != 1 {
		t.Fatalf("%d versions after failed pulls; want the first only", len(versions))
	}

	if err := h.store.PutRegistry(context.Background(), &jack.RegistryAuth{Host: "private.example.com", Username: "ci", Password: "s3cret"}); err != nil {
		t.Fatal(err)
	}
	d := h.mustSucceed(h.o.Deploy(context.Background(), jack.DeployRequest{App: "notes", Env: "production", Image: ref}))
	if !strings.Contains(stepsOf(d), "Pulling "+ref+" (as ci)") {
		t.Fatalf("steps:\n%s", stepsOf(d))
	}
}

func TestAMovedTagChangesNoDeployedVersion(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	const ref = "registry.example.com/notes:latest"
	first := h.rt.addRemote(ref, fakeImage{})
	h.mustSucceed(h.o.Deploy(ctx, jack.DeployRequest{App: "notes", Env: "production", Image: ref}))
	v1, _ := h.store.FindVersion(ctx, h.env.AppID, "v1")

	// CI pushes a new image under the same tag.
	second := h.rt.addRemote(ref, fakeImage{})
	if first == second {
		t.Fatal("the fake registry gave the moved tag the same digest")
	}
	h.mustSucceed(h.o.Restart(ctx, "notes", "production", ""))
	h.mustSucceed(h.o.Scale(ctx, "notes", "production", map[string]int{"web": 2}))
	if images := h.rt.runningImages("web"); len(images) != 2 || images[0] != v1.ImageID || images[1] != v1.ImageID {
		t.Fatalf("after restart and scale, web runs %v; want %s twice", images, v1.ImageID)
	}

	// Deploying the tag again without --pull keeps the image the engine
	// has; with it, the new image becomes a new version.
	d := h.mustSucceed(h.o.Deploy(ctx, jack.DeployRequest{App: "notes", Env: "production", Image: ref, Pull: true}))
	v2, err := h.store.FindVersion(ctx, h.env.AppID, "v2")
	if err != nil || v2.Digest != second || v2.ImageID == v1.ImageID {
		t.Fatalf("after --pull: version %+v, %v (steps:\n%s)", v2, err, stepsOf(d))
	}
	h.mustSucceed(h.o.Rollback(ctx, "notes", "production", 0, jack.ReleaseOptions{}))
	if images := h.rt.runningImages("web"); !slices.Equal(images, []string{v1.ImageID, v1.ImageID}) {
		t.Fatalf("after the rollback, web runs %v; want v1's %s", images, v1.ImageID)
	}
}

func TestAnImageTheEngineLostIsPulledAgainByItsDigest(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	const ref = "registry.example.com/notes:v1"
	digest := h.rt.addRemote(ref, fakeImage{})
	h.mustSucceed(h.o.Deploy(ctx, jack.DeployRequest{App: "notes", Env: "production", Image: ref}))
	v, _ := h.store.FindVersion(ctx, h.env.AppID, "v1")
	h.rt.removeImage(ref, v.ImageID) // docker image prune
	d := h.mustSucceed(h.o.Restart(ctx, "notes", "production", ""))
	if pulls := h.rt.remote.pulls; len(pulls) != 2 || pulls[1] != digest {
		t.Fatalf("pulls %v; want the tag, then the digest %s", pulls, digest)
	}
	if !strings.Contains(stepsOf(d), "Pulling "+digest) {
		t.Fatalf("steps:\n%s", stepsOf(d))
	}
}

func TestAPullIsRefusedForAnExistingVersion(t *testing.T) {
	h := newHarness(t)
	h.deploy(jack.DeployRequest{Image: "notes:v1"})
	_, err := h.o.Deploy(context.Background(), jack.DeployRequest{App: "notes", Env: "production", Version: "v1", Pull: true})
	if jack.ErrorCode(err) != jack.EINVALID {
		t.Fatalf("--pull with a version: %v", err)
	}
}
