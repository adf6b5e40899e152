package docker

import (
	"context"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/distribution/reference"
	jack "github.com/jack-paas/jack"
)

// imageIDRE matches an image ID, with or without its algorithm.
var imageIDRE = regexp.MustCompile(`^(sha256:)?[a-f0-9]{64}$`)

// InspectImage returns the image's ID, its first repo digest if it has one,
// its exposed TCP ports (sorted) and its entrypoint and command. ref is a
// reference such as notes:v1 or an image ID. EINVALID if ref does not
// parse, ENOTFOUND if the image is not on the engine: Jack never pulls.
func (r *Runtime) InspectImage(ctx context.Context, ref string) (jack.ImageInfo, error) {
	if !imageIDRE.MatchString(ref) {
		if _, err := reference.ParseNormalizedNamed(ref); err != nil {
			return jack.ImageInfo{}, jack.Errorf(jack.EINVALID, "image reference %s does not parse: %v", ref, err)
		}
	}
	img, err := r.cli.ImageInspect(ctx, ref)
	if isNotFound(err) {
		return jack.ImageInfo{}, jack.Errorf(jack.ENOTFOUND, "image %s is not on the Docker engine; build or load it first", ref)
	} else if err != nil {
		return jack.ImageInfo{}, r.fail(err, "inspect image %s", ref)
	}
	info := jack.ImageInfo{ID: img.ID}
	if len(img.RepoDigests) > 0 {
		info.Digest = img.RepoDigests[0]
	}
	if cfg := img.Config; cfg != nil {
		info.Entrypoint = cfg.Entrypoint
		info.Cmd = cfg.Cmd
		for p := range cfg.ExposedPorts {
			number, proto, _ := strings.Cut(p, "/")
			if port, err := strconv.Atoi(number); err == nil && (proto == "" || proto == "tcp") {
				info.ExposedPorts = append(info.ExposedPorts, port)
			}
		}
		sort.Ints(info.ExposedPorts)
	}
	return info, nil
}
