package deploy

import (
	"context"
	"crypto/sha256"
	"fmt"
	"strings"

	"github.com/distribution/reference"
	jack "github.com/jack-paas/jack"
)

// fakeRegistry is what the fake runtime pulls from: images by reference
// and by digest, hosts that ask for credentials, hosts that are down.
type fakeRegistry struct {
	images map[string]*fakeImage // by reference as pulled (tag or REPO@digest)
	logins map[string]jack.RegistryAuth
	down   map[string]bool
	pulls  []string // references pulled, in order
}

// addRemote pushes img to the fake registries as ref (host/repo:tag): a
// pull of ref, or of the digest it is given, brings it. It returns the
// digest reference.
func (f *fakeRuntime) addRemote(ref string, img fakeImage) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.remote.images == nil {
		f.remote = fakeRegistry{images: map[string]*fakeImage{}, logins: map[string]jack.RegistryAuth{}, down: map[string]bool{}}
	}
	f.seq++
	img.info.ID = fmt.Sprintf("sha256:%064d", f.seq)
	named, _ := reference.ParseNormalizedNamed(ref)
	sum := sha256.Sum256([]byte(ref + img.info.ID))
	img.info.Digest = reference.FamiliarName(named) + fmt.Sprintf("@sha256:%x", sum)
	f.remote.images[ref] = &img
	f.remote.images[img.info.Digest] = &img
	return img.info.Digest
}

// PullImage brings an image from the fake registries onto the engine,
// reporting its two layers.
func (f *fakeRuntime) PullImage(ctx context.Context, ref string, auth *jack.RegistryAuth, progress func(jack.PullProgress)) (jack.ImageInfo, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	host := strings.SplitN(ref, "/", 2)[0]
	switch want, private := f.remote.logins[host]; {
	case f.remote.down[host]:
		return jack.ImageInfo{}, jack.Errorf(jack.EUNAVAILABLE, "the registry of %s does not answer (connection refused)", ref)
	case private && (auth == nil || auth.Username != want.Username || auth.Password != want.Password):
		return jack.ImageInfo{}, jack.Errorf(jack.EINVALID, "the registry refused to give %s (unauthorized); check its credentials with `jack registries`", ref)
	}
	img := f.remote.images[ref]
	if img == nil {
		return jack.ImageInfo{}, jack.Errorf(jack.ENOTFOUND, "image %s is not in its registry (manifest unknown); check the name and the tag", ref)
	}
	f.remote.pulls = append(f.remote.pulls, ref)
	if progress != nil {
		progress(jack.PullProgress{Layers: 2, Done: 1, Downloaded: 1e6, Total: 3e6})
		progress(jack.PullProgress{Layers: 2, Done: 2, Downloaded: 3e6, Total: 3e6})
	}
	cp := *img
	f.images[ref] = &cp
	f.images[cp.info.ID] = &cp
	return cp.info, nil
}

// removeImage makes the engine lose an image, as `docker image prune` does.
func (f *fakeRuntime) removeImage(refs ...string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, r := range refs {
		delete(f.images, r)
	}
}
