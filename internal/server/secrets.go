package server

import (
	"fmt"
	"path/filepath"

	"github.com/jack-paas/jack/internal/secret"
)

// secretKeyFile is the secret key's file in the data folder: made on the
// first start, mode 0600, needed to read what the store keeps sealed.
const secretKeyFile = "secret-key"

// openSecrets returns the box of the data folder's secret key, making the
// key on the first start.
func openSecrets(dataDir string) (*secret.Box, error) {
	key, err := secret.LoadOrCreateKey(filepath.Join(dataDir, secretKeyFile))
	if err != nil {
		return nil, err
	}
	box, err := secret.New(key)
	if err != nil {
		return nil, fmt.Errorf("secret key: %w", err)
	}
	return box, nil
}
