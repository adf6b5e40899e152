package docker

import (
	"context"
	"slices"
	"strings"
	"testing"

	jack "github.com/jack-paas/jack"
	"github.com/jack-paas/jack/internal/dockertest"
)

func TestInspectImageReturnsWhatDefaultsComeFrom(t *testing.T) {
	r, cli := newRuntime(t)
	id := dockertest.BuildGoImage(t, cli, dockertest.TestApp, "jack-test/testapp:exposed", "EXPOSE 9000 8000 53/udp", `CMD ["worker"]`)

	for _, ref := range []string{"jack-test/testapp:exposed", id, strings.TrimPrefix(id, "sha256:")} {
		info, err := r.InspectImage(context.Background(), ref)
		if err != nil {
			t.Fatalf("InspectImage(%s): %v", ref, err)
		}
		if info.ID != id || info.Digest != "" {
			t.Errorf("InspectImage(%s) = ID %s digest %q; want %s and no digest (never pushed)", ref, info.ID, info.Digest, id)
		}
		if !slices.Equal(info.ExposedPorts, []int{8000, 9000}) {
			t.Errorf("exposed ports %v; want the TCP ones, [8000 9000]", info.ExposedPorts)
		}
		if !slices.Equal(info.Entrypoint, []string{"/testapp"}) || !slices.Equal(info.Cmd, []string{"worker"}) {
			t.Errorf("entrypoint %q, cmd %q", info.Entrypoint, info.Cmd)
		}
	}
}

func TestInspectImageOfAMissingImageIsNotFound(t *testing.T) {
	r, _ := newRuntime(t)
	_, err := r.InspectImage(context.Background(), "jack-test/no-such-image:v0")
	if jack.ErrorCode(err) != jack.ENOTFOUND || err.Error() != "image jack-test/no-such-image:v0 is not on the Docker engine; build or load it first" {
		t.Errorf("InspectImage = %v (%s); want ENOTFOUND saying to build or load it", err, jack.ErrorCode(err))
	}
}

func TestInspectImageOfAnInvalidReferenceIsInvalid(t *testing.T) {
	r, _ := newRuntime(t)
	for _, ref := range []string{"Notes:v1", "notes:", "notes::v1", "", "notes@sha256:abc"} {
		_, err := r.InspectImage(context.Background(), ref)
		if jack.ErrorCode(err) != jack.EINVALID || !strings.Contains(err.Error(), "does not parse") {
			t.Errorf("InspectImage(%q) = %v (%s); want EINVALID", ref, err, jack.ErrorCode(err))
		}
	}
}
