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
	DeathStore
	RegistryStore
}

// DeathStore keeps the deaths of each environment's instance slots.
type DeathStore interface {
	// SaveSlotDeaths stores the record of one slot of an environment,
	// replacing the one before. ENOTFOUND if the environment is missing.
	SaveSlotDeaths(ctx context.Context, envID int64, d SlotDeaths) error
	// ListSlotDeaths returns the records of an environment's slots.
	ListSlotDeaths(ctx context.Context, envID int64) ([]SlotDeaths, error)
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
