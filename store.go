package jack

import "context"

// Store keeps Jack's state. Each method runs in its own transaction.
type Store interface {
	AppStore
	EnvStore
	EdgeStore
	VersionStore
	ReleaseStore
	DeploymentStore
	EventStore
	TokenStore
	MetricsStore
	HookStore
	RunStore
}

// TokenStore keeps API tokens, hashed.
type TokenStore interface {
	// CreateToken stores a token's SHA-256 hash under a name.
	CreateToken(ctx context.Context, name, hash string) error
	// FindToken returns the name of the token with the hash. ENOTFOUND if none.
	FindToken(ctx context.Context, hash string) (string, error)
	// CountTokens returns how many tokens exist.
	CountTokens(ctx context.Context) (int, error)
}
