package deploy

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	jack "github.com/jack-paas/jack"
)

// A version's static files live in StaticDir/VERSION-ID/N, one folder per
// static entry of its manifest (N is the entry's index). They are copied
// out of the image before the version is stored, so a copy that fails
// leaves no version behind, and removed once the version is gone.

// tmpPrefix names folders whose copy is under way.
const tmpPrefix = ".tmp-"

// copyStatic copies the static folders of manifest out of image into a new
// temporary folder and returns it; "" when the manifest has none.
func (o *Orchestrator) copyStatic(ctx context.Context, image string, m *jack.Manifest) (string, error) {
	if len(m.Static) == 0 {
		return "", nil
	}
	copier, ok := o.runtime.(jack.ImageCopier)
	if !ok || o.staticDir == "" {
		return "", jack.Errorf(jack.EINVALID, "this server can't serve static files (no data folder or runtime support); remove static from the manifest")
	}
	if err := os.MkdirAll(o.staticDir, 0o700); err != nil {
		return "", fmt.Errorf("create static folder: %w", err)
	}
	suffix := make([]byte, 6)
	rand.Read(suffix)
	tmp := filepath.Join(o.staticDir, tmpPrefix+hex.EncodeToString(suffix))
	if err := os.Mkdir(tmp, 0o755); err != nil {
		return "", fmt.Errorf("create static folder: %w", err)
	}
	for i, e := range m.Static {
		if err := copier.CopyFromImage(ctx, image, e.Path, filepath.Join(tmp, strconv.Itoa(i))); err != nil {
			os.RemoveAll(tmp)
			return "", fmt.Errorf("static %s: %w", e.URL, err)
		}
	}
	return tmp, nil
}

// keepStatic makes a copied folder the static files of version id.
func (o *Orchestrator) keepStatic(tmp string, id int64) error {
	if tmp == "" {
		return nil
	}
	dest := filepath.Join(o.staticDir, strconv.FormatInt(id, 10))
	os.RemoveAll(dest) // left by a version of that ID that could not be stored
	if err := os.Rename(tmp, dest); err != nil {
		os.RemoveAll(tmp)
		return fmt.Errorf("keep the static files of version %d: %w", id, err)
	}
	return nil
}

// collectStatic removes the static folders of versions that no longer
// exist (their app was deleted), and copies abandoned for longer than
// olderThan (a daemon killed mid-copy).
func (o *Orchestrator) collectStatic(ctx context.Context, olderThan time.Duration) {
	if o.staticDir == "" {
		return
	}
	entries, err := os.ReadDir(o.staticDir)
	if err != nil {
		if !errors.Is(err, os.ErrNotExist) {
			o.logger.Warn("list static folders", "err", err)
		}
		return
	}
	for _, e := range entries {
		path := filepath.Join(o.staticDir, e.Name())
		if strings.HasPrefix(e.Name(), tmpPrefix) {
			if info, err := e.Info(); err == nil && time.Since(info.ModTime()) > olderThan {
				os.RemoveAll(path)
			}
			continue
		}
		id, err := strconv.ParseInt(e.Name(), 10, 64)
		if err != nil {
			continue
		}
		if _, err := o.store.FindVersionByID(ctx, id); jack.ErrorCode(err) == jack.ENOTFOUND {
			o.logger.Info("removing the static files of a deleted version", "version_id", id)
			if err := os.RemoveAll(path); err != nil {
				o.logger.Warn("remove static files", "dir", path, "err", err)
			}
		}
	}
}

// servedVersion is a version whose instances take an environment's
// traffic, and the newest release that runs it.
type servedVersion struct {
	label   string
	release int
}

// staticMounts returns the static folders an environment's route serves:
// those of the versions its routed web instances run, the newest release
// first (so a rollout switches to the new files with its first instance,
// while the old files still answer for pages the old instances gave out),
// else those of the release that serves.
func (o *Orchestrator) staticMounts(ctx context.Context, env *jack.Environment, served []servedVersion) []jack.StaticMount {
	if o.staticDir == "" {
		return nil
	}
	if len(served) == 0 && env.Release > 0 {
		if rel, err := o.store.FindRelease(ctx, env.ID, env.Release); err == nil {
			served = []servedVersion{{label: rel.Version, release: rel.Number}}
		}
	}
	sort.SliceStable(served, func(i, j int) bool { return served[i].release > served[j].release })
	var mounts []jack.StaticMount
	seen := map[string]bool{}
	for _, sv := range served {
		if seen[sv.label] {
			continue
		}
		seen[sv.label] = true
		v, err := o.versionByLabel(ctx, env.AppID, sv.label)
		if err != nil {
			o.logger.Warn("find the version of routed instances", "env", env.Ref(), "version", sv.label, "err", err)
			continue
		}
		for i, e := range v.Manifest.Static {
			mounts = append(mounts, jack.StaticMount{URL: e.URL, Dir: filepath.Join(o.staticDir, strconv.FormatInt(v.ID, 10), strconv.Itoa(i))})
		}
	}
	return mounts
}

// versionByLabel returns a version, from memory when it was looked up
// before: versions never change, and app IDs are never reused.
func (o *Orchestrator) versionByLabel(ctx context.Context, appID int64, label string) (*jack.Version, error) {
	key := strconv.FormatInt(appID, 10) + "/" + label
	o.versionsMu.Lock()
	v, ok := o.versions[key]
	o.versionsMu.Unlock()
	if ok {
		return v, nil
	}
	v, err := o.store.FindVersion(ctx, appID, label)
	if err != nil {
		return nil, err
	}
	o.versionsMu.Lock()
	o.versions[key] = v
	o.versionsMu.Unlock()
	return v, nil
}
