package httpapi

import (
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"strings"

	"github.com/jack-paas/jack"
)

// HashToken returns the hex SHA-256 of an API token: the form tokens are
// stored and looked up in, so the store never holds a usable token.
func HashToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// errUnauthorized is the answer to a request without a valid token.
var errUnauthorized = jack.Errorf(jack.EUNAUTHORIZED, "missing or wrong API token; set JACK_TOKEN or run `jack login`")

// authenticated wraps a handler so that it runs only for a request that
// carries "Authorization: Bearer TOKEN" with a token the store knows.
// Tokens are compared by their hash through a store lookup, so the
// comparison leaks nothing about the token's content.
func (s *server) authenticated(h handlerFunc) http.Handler {
	return s.public(func(w http.ResponseWriter, r *http.Request) error {
		scheme, token, ok := strings.Cut(r.Header.Get("Authorization"), " ")
		if !ok || !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(token) == "" {
			return errUnauthorized
		}
		if _, err := s.store.FindToken(r.Context(), HashToken(strings.TrimSpace(token))); jack.ErrorCode(err) == jack.ENOTFOUND {
			return errUnauthorized
		} else if err != nil {
			return err
		}
		return h(w, r)
	})
}
