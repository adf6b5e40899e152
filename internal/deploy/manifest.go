package deploy

import (
	"context"

	jack "github.com/jack-paas/jack"
	"github.com/jack-paas/jack/internal/manifest"
)

// imageManifestPath is where an image carries its own manifest.
const imageManifestPath = "/jack.yaml"

// manifest returns the manifest a deploy request gives, parsed by its kind
// (jack.yaml, Procfile, Dockerrun.aws.json), with its source and text;
// "defaults" and an empty manifest when it gives none (then it gives an
// image: see jack.DeployRequest.Validate). It fills in req.Image from a
// Dockerrun.aws.json's Image.Name when none is given.
func (o *Orchestrator) manifest(ctx context.Context, req *jack.DeployRequest) (*jack.Manifest, string, string, error) {
	if req.ManifestName == "" && req.Manifest == "" {
		return &jack.Manifest{}, "defaults", "", nil
	}
	name := req.ManifestName
	if name == "" {
		name = "jack.yaml"
	}
	m, err := manifest.ParseFile(name, []byte(req.Manifest))
	if err != nil {
		return nil, "", "", err
	}
	if req.Image == "" {
		if m.Image == "" {
			return nil, "", "", jack.Errorf(jack.EINVALID, "%s names no image; give an image to deploy with it", name)
		}
		req.Image = m.Image
	}
	return m, name, req.Manifest, nil
}

// imageManifestCacheSize bounds how many images' /jack.yaml are kept in
// memory.
const imageManifestCacheSize = 256

// imageManifest reads /jack.yaml out of an image; found is false when the
// image has none (or the runtime can't read images). What an image holds
// never changes, so each image is read once: reading means creating a
// container, which would otherwise cost every deploy of it that time.
func (o *Orchestrator) imageManifest(ctx context.Context, imageID string) (m *jack.Manifest, text string, found bool, err error) {
	reader, ok := o.runtime.(jack.OneOffRuntime)
	if !ok {
		return nil, "", false, nil
	}
	o.mu.Lock()
	data, cached := o.imageManifests[imageID]
	o.mu.Unlock()
	if !cached {
		data, err = reader.ReadImageFile(ctx, imageID, imageManifestPath)
		if jack.ErrorCode(err) == jack.ENOTFOUND {
			data, err = nil, nil
		} else if err != nil {
			return nil, "", false, err
		}
		o.mu.Lock()
		if o.imageManifests == nil || len(o.imageManifests) >= imageManifestCacheSize {
			o.imageManifests = map[string][]byte{}
		}
		o.imageManifests[imageID] = data
		o.mu.Unlock()
	}
	if data == nil {
		return nil, "", false, nil
	}
	m, err = manifest.Parse("jack.yaml (in the image)", data)
	if err != nil {
		return nil, "", false, err
	}
	return m, string(data), true, nil
}
