package jack

import (
	"context"
	"path"
	"strconv"
	"strings"
)

// StaticEntry is one `static` entry of a manifest: the files under Path in
// the image, copied out when the version is made, are served by the router
// under the URL prefix URL.
type StaticEntry struct {
	URL  string `json:"url"`  // a path prefix, starting and ending with /
	Path string `json:"path"` // an absolute folder inside the image
}

// maxStaticEntries bounds the static entries of a manifest.
const maxStaticEntries = 32

// validateStatic checks a manifest's static entries.
func validateStatic(entries []StaticEntry) error {
	if len(entries) > maxStaticEntries {
		return Errorf(EINVALID, "static has %d entries; at most %d are allowed", len(entries), maxStaticEntries)
	}
	for i, e := range entries {
		if err := ValidateStaticEntry("static["+strconv.Itoa(i)+"]", e, entries[:i]); err != nil {
			return err
		}
	}
	return nil
}

// ValidateStaticEntry checks one static entry against the ones before it;
// at names the entry in errors, such as static[2]. Manifest.Validate calls
// it for each entry, and a parser as it reads them, to point at the one
// that is wrong.
func ValidateStaticEntry(at string, e StaticEntry, before []StaticEntry) error {
	switch {
	case e.URL == "":
		return Errorf(EINVALID, "%s.url is missing; give the URL prefix to serve the files at, such as /static/", at)
	case !strings.HasPrefix(e.URL, "/") || !strings.HasSuffix(e.URL, "/"):
		return Errorf(EINVALID, "%s.url %q must be a path such as /static/", at, e.URL)
	case path.Clean(e.URL)+"/" != e.URL && e.URL != "/":
		return Errorf(EINVALID, "%s.url %q must be a clean path, without //, . or .. segments", at, e.URL)
	case strings.ContainsAny(e.URL, "?#%\\") || hasControl(e.URL):
		return Errorf(EINVALID, "%s.url %q may hold only plain path characters", at, e.URL)
	case e.Path == "":
		return Errorf(EINVALID, "%s.path is missing; give the folder inside the image, such as /app/staticfiles", at)
	case !strings.HasPrefix(e.Path, "/"):
		return Errorf(EINVALID, "%s.path %q must be an absolute path inside the image", at, e.Path)
	case path.Clean(e.Path) != strings.TrimSuffix(e.Path, "/") && e.Path != "/" || hasControl(e.Path):
		return Errorf(EINVALID, "%s.path %q must be a clean absolute path, without . or .. segments", at, e.Path)
	case path.Clean(e.Path) == "/":
		return Errorf(EINVALID, "%s.path is the image's root; give the folder that holds the static files", at)
	}
	for _, prev := range before {
		if prev.URL == e.URL {
			return Errorf(EINVALID, "%s.url %s is given twice; give each URL prefix once", at, e.URL)
		}
	}
	return nil
}

func hasControl(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] == 0x7f {
			return true
		}
	}
	return false
}

// ImageCopier is a Runtime that can copy a folder out of an image, as
// static files are when a version is made.
type ImageCopier interface {
	// CopyFromImage copies the folder at path inside image into dest (a
	// folder that must not exist yet), without running the image. Symlinks
	// are kept when they point inside the folder and refused otherwise;
	// nothing is written outside dest. ENOTFOUND if the image has no such
	// folder, EINVALID if the path is a file or the folder holds a link
	// that leads out of it.
	CopyFromImage(ctx context.Context, image, path, dest string) error
}
