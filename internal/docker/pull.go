package docker

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/distribution/reference"
	"github.com/docker/docker/api/types/image"
	"github.com/docker/docker/api/types/registry"
	"github.com/docker/docker/pkg/jsonmessage"
	jack "github.com/jack-paas/jack"
)

// pullProgressEvery bounds how often a pull reports its progress.
const pullProgressEvery = 500 * time.Millisecond

// PullImage pulls ref from its registry, with auth when given (the
// credentials of the ref's host), calling progress as the layers come
// (at most every half second, and once at the end), and returns the image
// as InspectImage does, its Digest the content digest the registry gave
// (REPO@sha256:…). A registry that refuses or does not know the image, or
// does not answer, fails the pull with its reason in words.
func (r *Runtime) PullImage(ctx context.Context, ref string, auth *jack.RegistryAuth, progress func(jack.PullProgress)) (jack.ImageInfo, error) {
	named, err := reference.ParseNormalizedNamed(ref)
	if err != nil {
		return jack.ImageInfo{}, jack.Errorf(jack.EINVALID, "image reference %s does not parse: %v", ref, err)
	}
	named = reference.TagNameOnly(named) // pull the tag, not every tag
	opts := image.PullOptions{}
	if auth != nil {
		if opts.RegistryAuth, err = registry.EncodeAuthConfig(registry.AuthConfig{
			Username: auth.Username, Password: auth.Password, ServerAddress: auth.Host,
		}); err != nil {
			return jack.ImageInfo{}, fmt.Errorf("encode the credentials of %s: %w", auth.Host, err)
		}
	}
	rc, err := r.cli.ImagePull(ctx, named.String(), opts)
	if err != nil {
		return jack.ImageInfo{}, r.pullError(ref, err)
	}
	defer rc.Close()
	digest, err := followPull(rc, progress)
	if err != nil {
		return jack.ImageInfo{}, r.pullError(ref, err)
	}
	info, err := r.InspectImage(ctx, named.String())
	if err != nil {
		return jack.ImageInfo{}, err
	}
	if digest != "" {
		info.Digest = reference.FamiliarName(named) + "@" + digest
	}
	return info, nil
}

// followPull reads the engine's pull stream to its end, reporting
// progress, and returns the content digest it announced.
func followPull(rc io.Reader, progress func(jack.PullProgress)) (string, error) {
	dec := json.NewDecoder(rc)
	layers := map[string]*layerProgress{}
	var order []string
	var digest string
	var last time.Time
	report := func(force bool) {
		if progress == nil || (!force && time.Since(last) < pullProgressEvery) {
			return
		}
		last = time.Now()
		var p jack.PullProgress
		for _, id := range order {
			l := layers[id]
			p.Layers++
			if l.done {
				p.Done++
			}
			p.Downloaded += l.current
			p.Total += l.total
		}
		progress(p)
	}
	for {
		var m jsonmessage.JSONMessage
		if err := dec.Decode(&m); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			return "", fmt.Errorf("read the engine's pull stream: %w", err)
		}
		if m.Error != nil {
			return "", errors.New(m.Error.Message)
		}
		if d, ok := strings.CutPrefix(m.Status, "Digest: "); ok {
			digest = strings.TrimSpace(d)
			continue
		}
		if m.ID == "" || strings.HasPrefix(m.Status, "Pulling from ") {
			continue // about the image, not a layer
		}
		l := layers[m.ID]
		if l == nil {
			l = &layerProgress{}
			layers[m.ID] = l
			order = append(order, m.ID)
		}
		l.update(m)
		report(false)
	}
	report(true)
	return digest, nil
}

// layerProgress is one layer's progress in a pull.
type layerProgress struct {
	current, total int64
	done           bool
}

func (l *layerProgress) update(m jsonmessage.JSONMessage) {
	switch m.Status {
	case "Downloading":
		if m.Progress != nil {
			l.current, l.total = m.Progress.Current, max(l.total, m.Progress.Total)
		}
	case "Download complete", "Verifying Checksum":
		l.current = l.total
	case "Pull complete", "Already exists":
		l.current, l.done = l.total, true
	}
}

// pullError turns what the engine said of a failed pull into words that
// say what to do.
func (r *Runtime) pullError(ref string, err error) error {
	msg := err.Error()
	lower := strings.ToLower(msg)
	switch {
	case isNotFound(err) || strings.Contains(lower, "manifest unknown") || strings.Contains(lower, "name unknown") || strings.Contains(lower, "not found"):
		return jack.Errorf(jack.ENOTFOUND, "image %s is not in its registry (%s); check the name and the tag", ref, msg)
	case strings.Contains(lower, "unauthorized") || strings.Contains(lower, "authentication required") ||
		strings.Contains(lower, "no basic auth credentials") || strings.Contains(lower, "denied"):
		return jack.Errorf(jack.EINVALID, "the registry refused to give %s (%s); check its credentials with `jack registries`", ref, msg)
	case strings.Contains(lower, "connection refused") || strings.Contains(lower, "no such host") ||
		strings.Contains(lower, "timeout") || strings.Contains(lower, "deadline exceeded") || strings.Contains(lower, "i/o timeout"):
		return jack.Errorf(jack.EUNAVAILABLE, "the registry of %s does not answer (%s)", ref, msg)
	}
	return r.fail(err, "pull %s", ref)
}
