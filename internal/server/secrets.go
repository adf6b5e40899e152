package server

import (
	"fmt"
	"path/filepath"

	"github.com/jack-paas/jack/internal/secret"
)

// secretKeyFile is the secret key's file in the data folder: made on the
// first start, mode 0600, needed to read what the store keeps sealed.
const secretKeyFile = "secret-key"

// openSecrets returns the data folder's secret key and its box, making
// the key on the first start.
func openSecrets(dataDir string) ([]byte, *secret.Box, error) {
	key, err := secret.LoadOrCreateKey(filepath.Join(dataDir, secretKeyFile))
	if err != nil {
		return nil, nil, err
	}
	box, err := secret.New(key)
	if err != nil {
		return nil, nil, fmt.Errorf("secret key: %w", err)
	}
	return key, box, nil
}
