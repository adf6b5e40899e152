package jack

import (
	"context"
	"path"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// StaticEntry is one `static` entry of a manifest: the files under Path in
// the image, copied out when the version is made, are served by the router
// under the URL prefix URL.
type StaticEntry struct {
	URL  string `json:"url"`  // a path prefix, starting and ending with /
	Path string `json:"path"` // an absolute folder inside the image
}

// staticKeys are the keys of a static entry.
var staticKeys = []string{"url", "path"}

// maxStaticEntries bounds the static entries of a manifest.
const maxStaticEntries = 32

// static reads the list of {url, path} entries. A URL without its
// trailing slash gets one: /static means the folder /static/.
func (p *manifestParser) static(n *yaml.Node, m *Manifest) error {
	if isNullNode(n) {
		return nil
	}
	if n.Kind != yaml.SequenceNode {
		return p.errorf(n, "static: expected a list of {url, path} entries, got %s", describeNode(n))
	}
	m.Static = nil
	for i, item := range n.Content {
		item = resolveAlias(item)
		at := "static[" + strconv.Itoa(i) + "]"
		if item.Kind != yaml.MappingNode {
			return p.errorf(item, "%s: expected a mapping with keys url and path, got %s", at, describeNode(item))
		}
		var e StaticEntry
		err := p.mapping(item, at, staticKeys, func(key string, keyNode, value *yaml.Node) (err error) {
			switch key {
			case "url":
				e.URL, err = p.string(value, at+".url")
			case "path":
				e.Path, err = p.string(value, at+".path")
			}
			return err
		})
		if err != nil {
			return err
		}
		if e.URL != "" && !strings.HasSuffix(e.URL, "/") {
			e.URL += "/"
		}
		if err := validateStaticEntry(at, e, m.Static); err != nil {
			return p.errorf(item, "%s", ErrorMessage(err))
		}
		m.Static = append(m.Static, e)
	}
	return nil
}

// validateStatic checks a manifest's static entries.
func validateStatic(entries []StaticEntry) error {
	if len(entries) > maxStaticEntries {
		return Errorf(EINVALID, "static has %d entries; at most %d are allowed", len(entries), maxStaticEntries)
	}
	for i, e := range entries {
		if err := validateStaticEntry("static["+strconv.Itoa(i)+"]", e, entries[:i]); err != nil {
			return err
		}
	}
	return nil
}

// validateStaticEntry checks one entry against the ones before it.
func validateStaticEntry(at string, e StaticEntry, before []StaticEntry) error {
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
