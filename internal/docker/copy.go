package docker

import (
	"context"
	"fmt"
	"os"
	"path"

	"github.com/docker/docker/api/types/container"
	jack "github.com/jack-paas/jack"
)

var _ jack.ImageCopier = (*Runtime)(nil)

// labelPurpose marks containers made for something other than running an
// instance; they carry no app or environment label, so no environment
// claims them.
const labelPurpose = "dev.jack.purpose"

// CopyFromImage copies the folder at srcPath inside image into dest: it
// creates a container of the image without starting it, reads the folder
// as a tar archive from the engine, extracts it safely (see extractTar) and
// removes the container. dest must not exist; it is removed again when the
// copy fails.
func (r *Runtime) CopyFromImage(ctx context.Context, image, srcPath, dest string) error {
	labels := map[string]string{jack.LabelManaged: "true", jack.LabelOwner: r.owner, labelPurpose: "copy"}
	for k, v := range r.ExtraLabels {
		labels[k] = v
	}
	created, err := r.cli.ContainerCreate(ctx,
		&container.Config{Image: image, Labels: labels, Entrypoint: []string{"/jack-copy-only"}, Cmd: []string{}},
		&container.HostConfig{NetworkMode: "none"}, nil, nil, "")
	if isNotFound(err) {
		return jack.Errorf(jack.ENOTFOUND, "image %s is not on the Docker engine; build or load it first", image)
	} else if err != nil {
		return r.fail(err, "create a container to copy %s out of %s", srcPath, shortImage(image))
	}
	defer r.remove(context.WithoutCancel(ctx), created.ID)

	from := path.Clean(srcPath)
	stat, err := r.cli.ContainerStatPath(ctx, created.ID, from)
	if isNotFound(err) {
		return jack.Errorf(jack.ENOTFOUND, "the image has no %s to copy static files from; check the path, or that the build puts the files there", from)
	} else if err != nil {
		return r.fail(err, "look at %s in the image", from)
	}
	if stat.Mode&os.ModeSymlink != 0 && stat.LinkTarget != "" {
		from = path.Clean(stat.LinkTarget) // the folder a link at the top points to
		if stat, err = r.cli.ContainerStatPath(ctx, created.ID, from); err != nil {
			return r.fail(err, "look at %s in the image", from)
		}
	}
	if !stat.Mode.IsDir() {
		return jack.Errorf(jack.EINVALID, "%s in the image is a file, not a folder; give the folder that holds the static files", srcPath)
	}
	archive, _, err := r.cli.CopyFromContainer(ctx, created.ID, from+"/.")
	if err != nil {
		return r.fail(err, "copy %s out of the image", from)
	}
	defer archive.Close()
	if err := os.Mkdir(dest, 0o755); err != nil {
		return fmt.Errorf("create static folder: %w", err)
	}
	if err := extractTar(archive, dest, from, extractLimits{}); err != nil {
		os.RemoveAll(dest)
		return err
	}
	return nil
}

func shortImage(id string) string {
	if len(id) > 19 {
		return id[:19]
	}
	return id
}
