package jack

import (
	"regexp"
	"strings"
)

// MaxConfigValue is the largest config value, in bytes.
const MaxConfigValue = 32 << 10

var configKeyRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// ValidateConfigKey checks a config var's name: a POSIX environment
// variable name that Jack does not set itself.
func ValidateConfigKey(key string) error {
	if !configKeyRE.MatchString(key) {
		return Errorf(EINVALID, "config key %q is not a valid name; use letters, digits and _, not starting with a digit", key)
	}
	if key == "PORT" || strings.HasPrefix(key, "JACK_") {
		return Errorf(EINVALID, "config key %s is set by Jack; choose another name", key)
	}
	return nil
}

// ValidateConfigValue checks a config var's value: any bytes but NUL, which
// an environment variable cannot hold, up to MaxConfigValue.
func ValidateConfigValue(key, value string) error {
	if len(value) > MaxConfigValue {
		return Errorf(EINVALID, "config value of %s is %d bytes; the limit is 32 KiB", key, len(value))
	}
	if strings.IndexByte(value, 0) >= 0 {
		return Errorf(EINVALID, "config value of %s contains a NUL byte, which an environment variable cannot hold", key)
	}
	return nil
}

// MaskValue returns how listings show a config value: its length and never
// its content.
func MaskValue(v string) string {
	if v == "" {
		return ""
	}
	return "••••••"
}
