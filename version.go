package jack

import (
	"context"
	"time"
)

// Version is an immutable build of an app: an image pinned by its content
// ID, the manifest that says how to run it, and a label. Versions belong to
// the app, so staging and production run the very same version.
type Version struct {
	ID       int64     `json:"id"`
	AppID    int64     `json:"app_id"`
	Number   int       `json:"number"` // 1, 2, 3 … per app
	Label    string    `json:"label"`  // given with --label, else "v" + Number
	Image    string    `json:"image"`  // the reference the user gave, e.g. notes:v1
	ImageID  string    `json:"image_id"`
	Digest   string    `json:"digest,omitempty"` // repo digest when the image has one
	Manifest *Manifest `json:"manifest"`         // with defaults applied
	Source   string    `json:"source"`           // where the manifest came from: a file name, "image", "defaults"
	// ManifestText is the manifest as the user wrote it, kept for reference.
	ManifestText string    `json:"manifest_text,omitempty"`
	CreatedAt    time.Time `json:"created_at"`
}

// ImageInfo is what the runtime knows of an image: its content ID, repo
// digest if any, and the parts of its config that defaults are taken from.
type ImageInfo struct {
	ID           string   `json:"id"`
	Digest       string   `json:"digest,omitempty"`
	ExposedPorts []int    `json:"exposed_ports,omitempty"`
	Entrypoint   []string `json:"entrypoint,omitempty"`
	Cmd          []string `json:"cmd,omitempty"`
}

// Port returns the image's lowest exposed TCP port, else DefaultPort.
func (i ImageInfo) Port() int {
	best := 0
	for _, p := range i.ExposedPorts {
		if best == 0 || p < best {
			best = p
		}
	}
	if best == 0 {
		return DefaultPort
	}
	return best
}

// VersionStore keeps versions.
type VersionStore interface {
	// CreateVersion stores a version, numbering it and labelling it "vN" when
	// no label is given. ECONFLICT if the app already has the label.
	CreateVersion(ctx context.Context, v *Version) error
	// FindVersion returns a version by label. ENOTFOUND if there is none.
	FindVersion(ctx context.Context, appID int64, label string) (*Version, error)
	// FindVersionByID returns a version by its ID.
	FindVersionByID(ctx context.Context, id int64) (*Version, error)
	// ListVersions returns an app's versions, newest first.
	ListVersions(ctx context.Context, appID int64) ([]*Version, error)
}
