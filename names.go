package jack

import (
	"regexp"
	"strings"
)

var nameRE = regexp.MustCompile(`^[a-z0-9]([a-z0-9-]{0,38}[a-z0-9])?$`)

// ValidateName checks an app or environment name: lowercase letters, digits
// and inner dashes, at most 40 characters, so that it fits in a hostname
// label and a container name.
func ValidateName(kind, name string) error {
	if name == "" {
		return Errorf(EINVALID, "%s name is empty; use lowercase letters, digits and dashes", kind)
	}
	if !nameRE.MatchString(name) {
		return Errorf(EINVALID, "%s name %q is not valid; use lowercase letters, digits and inner dashes (at most 40)", kind, name)
	}
	return nil
}

// ParseEnvRef splits "APP/ENV" into its names and validates both.
func ParseEnvRef(ref string) (app, env string, err error) {
	app, env, ok := strings.Cut(ref, "/")
	if !ok {
		return "", "", Errorf(EINVALID, "%q is not APP/ENV; name an environment such as notes/production", ref)
	}
	if err := ValidateName("app", app); err != nil {
		return "", "", err
	}
	if err := ValidateName("environment", env); err != nil {
		return "", "", err
	}
	return app, env, nil
}

// ShortID returns the first 12 hex digits of a container or image ID, the
// form Jack shows users (as docker does): an image ID loses its "sha256:"
// prefix first, and a shorter ID is returned whole.
func ShortID(id string) string {
	id = strings.TrimPrefix(id, "sha256:")
	if len(id) > 12 {
		return id[:12]
	}
	return id
}
