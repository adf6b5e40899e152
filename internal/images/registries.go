// Package images is what users do with the registries Jack pulls from:
// their credentials, checked with the registry (as `docker login` does)
// before they are kept. The pull itself is a deployment's first step
// (internal/deploy/pull.go); the registry inside Jack is internal/registry.
package images

import (
	"context"

	jack "github.com/jack-paas/jack"
)

// Login checks credentials with their registry (the engine's
// RegistryLogin).
type Login interface {
	RegistryLogin(ctx context.Context, auth *jack.RegistryAuth) error
}

// Registries is the jack.RegistryService: credentials checked with their
// registry through the engine, then kept in the store, passwords sealed.
type Registries struct {
	Store jack.RegistryStore
	Login Login
}

var _ jack.RegistryService = (*Registries)(nil)

// AddRegistry checks the credentials with the registry and stores them.
func (s *Registries) AddRegistry(ctx context.Context, auth *jack.RegistryAuth) error {
	if err := auth.Validate(); err != nil {
		return err
	}
	if err := s.Login.RegistryLogin(ctx, auth); err != nil {
		return err
	}
	return s.Store.PutRegistry(ctx, auth)
}

// ListRegistries returns the stored credentials, without passwords.
func (s *Registries) ListRegistries(ctx context.Context) ([]*jack.RegistryAuth, error) {
	return s.Store.ListRegistries(ctx)
}

// RemoveRegistry forgets a host's credentials.
func (s *Registries) RemoveRegistry(ctx context.Context, host string) error {
	return s.Store.DeleteRegistry(ctx, host)
}
