package jack

import (
	"net"
	"strings"
)

// ValidateDomain checks a host name an environment answers to: a DNS name,
// optionally with a leading "*." wildcard, without a port.
func ValidateDomain(d string) error {
	name := strings.TrimPrefix(d, "*.")
	if name == "" || len(name) > 253 || strings.ContainsAny(name, ":/ ") || net.ParseIP(name) != nil {
		return Errorf(EINVALID, "domain %q is not a host name; give one like www.example.com or *.example.com", d)
	}
	for _, label := range strings.Split(name, ".") {
		if label == "" || len(label) > 63 || strings.HasPrefix(label, "-") || strings.HasSuffix(label, "-") {
			return Errorf(EINVALID, "domain %q is not a host name; give one like www.example.com or *.example.com", d)
		}
		for _, r := range label {
			if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-') {
				return Errorf(EINVALID, "domain %q has %q, which a host name can't have", d, r)
			}
		}
	}
	return nil
}

// NormalizeDomain returns the form domains are stored and matched in:
// lower case, no trailing dot.
func NormalizeDomain(d string) string { return strings.TrimSuffix(strings.ToLower(d), ".") }
