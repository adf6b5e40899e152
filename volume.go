package jack

import (
	"path"
	"sort"
)

// VolumeMount mounts an environment's named volume at an absolute path in
// a container. Volumes belong to the environment: deploys and rollbacks
// keep them, and only deleting the environment with its volumes removes
// them.
type VolumeMount struct {
	Name string `json:"name"`
	Path string `json:"path"`
}

// VolumeMounts returns the manifest's volumes, sorted by name.
func (m *Manifest) VolumeMounts() []VolumeMount {
	out := make([]VolumeMount, 0, len(m.Volumes))
	for name, p := range m.Volumes {
		out = append(out, VolumeMount{Name: name, Path: p})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// ValidateVolumes checks volume names and that each path is absolute and
// mounted once. Manifest.Validate calls it, and a parser calls it on the
// volumes read so far, to point at the one that is wrong.
func ValidateVolumes(volumes map[string]string) error {
	byPath := map[string]string{}
	for _, v := range (&Manifest{Volumes: volumes}).VolumeMounts() {
		if err := ValidateName("volume", v.Name); err != nil {
			return Errorf(EINVALID, "volumes.%s: %s", v.Name, ErrorMessage(err))
		}
		if !path.IsAbs(v.Path) {
			return Errorf(EINVALID, "volumes.%s: path %q is not absolute; give the path in the container, such as /data", v.Name, v.Path)
		}
		if path.Clean(v.Path) == "/" {
			return Errorf(EINVALID, "volumes.%s: a volume can't be mounted over / ; give a folder such as /data", v.Name)
		}
		if other, ok := byPath[path.Clean(v.Path)]; ok {
			return Errorf(EINVALID, "volumes.%s: path %s is taken by volume %s already", v.Name, v.Path, other)
		}
		byPath[path.Clean(v.Path)] = v.Name
	}
	return nil
}
