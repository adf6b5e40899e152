package docker

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/docker/docker/api/types/image"
	jack "github.com/jack-paas/jack"
	"github.com/jack-paas/jack/internal/dockertest"
)

func TestPullBringsAnImageFromARegistryAndPinsItsDigest(t *testing.T) {
	r, cli := newRuntime(t)
	// An image with a layer of its own, gone from the engine once pushed:
	// the pull has to download it.
	const tag = "jack-test/testapp:pull"
	nonce := fmt.Sprint(time.Now().UnixNano())
	id := dockertest.BuildGoImageWithFiles(t, cli, dockertest.TestApp, tag, []dockertest.ImageFile{{Name: "/nonce", Body: nonce}})
	reg := dockertest.StartRegistry(t, "", "")
	ref := reg.Push(t, cli, tag, "notes:v1")
	if _, err := cli.ImageRemove(context.Background(), tag, image.RemoveOptions{Force: true, PruneChildren: true}); err != nil {
		t.Fatal(err)
	}
	var last jack.PullProgress
	calls := 0
	info, err := r.PullImage(context.Background(), ref, nil, func(p jack.PullProgress) { last, calls = p, calls+1 })
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { removeImage(cli, ref) })
	if info.ID != id {
		t.Errorf("pulled image %s, want %s", info.ID, id)
	}
	if !strings.HasPrefix(info.Digest, reg.Host+"/notes@sha256:") {
		t.Errorf("digest %q; want %s/notes@sha256:…", info.Digest, reg.Host)
	}
	if calls == 0 || last.Layers == 0 || last.Done != last.Layers || last.Downloaded == 0 {
		t.Errorf("progress %+v after %d reports; want every layer done", last, calls)
	}
	// The digest names the very image: it pulls again by itself.
	again, err := r.PullImage(context.Background(), info.Digest, nil, nil)
	if err != nil || again.ID != id {
		t.Fatalf("pull by digest: %+v, %v", again, err)
	}
}

func TestAPullThatFailsSaysWhy(t *testing.T) {
	r, cli := newRuntime(t)
	testImage(t, cli)
	private := dockertest.StartRegistry(t, "ci", "s3cret")
	ref := private.Push(t, cli, testImageTag, "notes:v1")
	open := dockertest.StartRegistry(t, "", "")
	down := dockertest.StartRegistry(t, "", "")
	downRef := down.Push(t, cli, testImageTag, "notes:v1")
	down.Stop()
	cases := []struct {
		name string
		ref  string
		auth *jack.RegistryAuth
		code string
		says string
	}{
		{"no credentials", ref, nil, jack.EINVALID, "jack registries"},
		{"a wrong password", ref, &jack.RegistryAuth{Host: private.Host, Username: "ci", Password: "wrong"}, jack.EINVALID, "refused"},
		{"no such tag", open.Host + "/notes:nope", nil, jack.ENOTFOUND, "check the name and the tag"},
		{"a registry that is down", downRef, nil, jack.EUNAVAILABLE, "does not answer"},
		{"a reference that does not parse", "Notes:V1", nil, jack.EINVALID, "does not parse"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := r.PullImage(context.Background(), c.ref, c.auth, nil)
			if jack.ErrorCode(err) != c.code || !strings.Contains(jack.ErrorMessage(err), c.says) {
				t.Fatalf("pull %s: %v (%s); want %s saying %q", c.ref, err, jack.ErrorCode(err), c.code, c.says)
			}
		})
	}
	info, err := r.PullImage(context.Background(), ref, &jack.RegistryAuth{Host: private.Host, Username: "ci", Password: "s3cret"}, nil)
	if err != nil {
		t.Fatalf("with the right credentials: %v", err)
	}
	t.Cleanup(func() { removeImage(cli, ref) })
	if info.Digest == "" {
		t.Fatal("no digest")
	}
}

// removeImage removes a reference a test pulled, leaving the image under
// its other names.
func removeImage(cli interface {
	ImageRemove(context.Context, string, image.RemoveOptions) ([]image.DeleteResponse, error)
}, ref string) {
	cli.ImageRemove(context.Background(), ref, image.RemoveOptions{})
}
