package docker

import (
	"context"
	"strings"

	"github.com/docker/docker/api/types/registry"
	jack "github.com/jack-paas/jack"
)

// RegistryLogin checks credentials with their registry through the
// engine, as `docker login` does. EINVALID if the registry refuses them,
// EUNAVAILABLE if it (or the engine) does not answer.
func (r *Runtime) RegistryLogin(ctx context.Context, auth *jack.RegistryAuth) error {
	_, err := r.cli.RegistryLogin(ctx, registry.AuthConfig{Username: auth.Username, Password: auth.Password, ServerAddress: auth.Host})
	if err == nil {
		return nil
	}
	lower := strings.ToLower(err.Error())
	switch {
	case strings.Contains(lower, "unauthorized") || strings.Contains(lower, "incorrect") || strings.Contains(lower, "denied"):
		return jack.Errorf(jack.EINVALID, "registry %s refused the credentials of %s (%v)", auth.Host, auth.Username, err)
	case strings.Contains(lower, "connection refused") || strings.Contains(lower, "no such host") || strings.Contains(lower, "timeout"):
		return jack.Errorf(jack.EUNAVAILABLE, "registry %s does not answer (%v)", auth.Host, err)
	}
	return r.fail(err, "log in to registry %s", auth.Host)
}
