package manifest

import (
	"path"
	"strings"

	"github.com/jack-paas/jack"
)

// ParseFile reads a manifest given with -f, choosing the parser by the
// file's name: a Procfile (Procfile, Procfile.*), a Dockerrun.aws.json (any
// name ending in .json), else jack.yaml. Errors are EINVALID, one line,
// naming the file, the line and the key.
func ParseFile(name string, data []byte) (*jack.Manifest, error) {
	base := path.Base(strings.ReplaceAll(name, "\\", "/"))
	switch {
	case strings.EqualFold(base, "Procfile") || strings.HasPrefix(strings.ToLower(base), "procfile."):
		return ParseProcfile(name, data)
	case strings.HasSuffix(strings.ToLower(base), ".json"):
		return ParseDockerrun(name, data)
	}
	return Parse(name, data)
}
