package docker

import (
	"context"
	"fmt"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/docker/docker/api/types/mount"
	"github.com/docker/docker/api/types/volume"
	jack "github.com/jack-paas/jack"
)

// labelVolume names the manifest's volume a Docker volume holds.
const labelVolume = "dev.jack.volume"

// volumeName returns the engine's name of an environment's volume:
// jack-OWNER-APP-ENV-NAME, so that two installations on one engine never
// share one.
func volumeName(owner, app, env, name string) string {
	if owner == "" {
		return fmt.Sprintf("jack-%s-%s-%s", app, env, name)
	}
	return fmt.Sprintf("jack-%s-%s-%s-%s", owner, app, env, name)
}

// ensureVolumes creates the environment's volumes that do not exist yet,
// labelled as Jack's, and returns the mounts of a container.
func (r *Runtime) ensureVolumes(ctx context.Context, owner, app, env string, vols []jack.VolumeMount) ([]mount.Mount, error) {
	if owner == "" {
		owner = r.owner
	}
	var mounts []mount.Mount
	for _, v := range vols {
		name := volumeName(owner, app, env, v.Name)
		labels := map[string]string{
			jack.LabelManaged: "true", jack.LabelOwner: owner,
			jack.LabelApp: app, jack.LabelEnv: env, labelVolume: v.Name,
		}
		for k, val := range r.ExtraLabels {
			labels[k] = val
		}
		// Creating a volume that exists returns it unchanged.
		if _, err := r.cli.VolumeCreate(ctx, volume.CreateOptions{Name: name, Driver: "local", Labels: labels}); err != nil {
			return nil, r.fail(err, "create volume %s", name)
		}
		mounts = append(mounts, mount.Mount{Type: mount.TypeVolume, Source: name, Target: v.Path})
	}
	return mounts, nil
}

// RemoveVolumes removes the environment's volumes and returns the
// manifest names of those removed. ECONFLICT when a container still uses
// one.
func (r *Runtime) RemoveVolumes(ctx context.Context, app, env string) ([]string, error) {
	args := r.managedFilter()
	args.Add("label", jack.LabelApp+"="+app)
	args.Add("label", jack.LabelEnv+"="+env)
	list, err := r.cli.VolumeList(ctx, volume.ListOptions{Filters: args})
	if err != nil {
		return nil, r.fail(err, "list volumes of %s/%s", app, env)
	}
	var removed []string
	for _, v := range list.Volumes {
		err := r.cli.VolumeRemove(ctx, v.Name, false)
		switch {
		case err == nil || isNotFound(err):
			removed = append(removed, v.Labels[labelVolume])
		case cerrdefs.IsConflict(err):
			return removed, jack.Errorf(jack.ECONFLICT, "volume %s is still in use by a container; stop it, then try again", v.Labels[labelVolume])
		default:
			return removed, r.fail(err, "remove volume %s", v.Name)
		}
	}
	return removed, nil
}
