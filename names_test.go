package jack_test

import (
	"testing"

	"github.com/jack-paas/jack"
)

func TestShortIDIsTheFirst12HexDigitsAsDockerShowsThem(t *testing.T) {
	for _, tc := range []struct{ id, want string }{
		{"4f1c9e2a7b3d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e7", "4f1c9e2a7b3d"},
		{"sha256:9a8b7c6d5e4f30211f2e3d4c5b6a79880a1b2c3d4e5f60718293a4b5c6d7e8f9", "9a8b7c6d5e4f"},
		{"4f1c9e2a7b3d", "4f1c9e2a7b3d"},
		{"abc", "abc"},
		{"sha256:abc", "abc"},
		{"", ""},
	} {
		if got := jack.ShortID(tc.id); got != tc.want {
			t.Errorf("ShortID(%q) = %q, want %q", tc.id, got, tc.want)
		}
	}
}
