package server

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/jack-paas/jack/internal/httpapi"
)

// ensureAdminToken makes the admin token on first start: random, stored
// only as a hash, and written once to a file only its owner can read.
func (m *Main) ensureAdminToken(ctx context.Context) error {
	n, err := m.db.CountTokens(ctx)
	if err != nil {
		return fmt.Errorf("count tokens: %w", err)
	}
	if n > 0 {
		return nil
	}
	token := "jack_" + randomHex(24)
	f, err := os.OpenFile(m.tokenFile, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return fmt.Errorf("write admin token: %w", err)
	}
	if _, err := f.WriteString(token + "\n"); err != nil {
		f.Close()
		return fmt.Errorf("write admin token: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("write admin token: %w", err)
	}
	if err := m.db.CreateToken(ctx, "admin", httpapi.HashToken(token)); err != nil {
		return fmt.Errorf("store admin token: %w", err)
	}
	m.logger.Info("admin token written", "file", m.tokenFile)
	return nil
}

// installationID returns the ID that marks this data folder's containers,
// made on first start.
func installationID(dataDir string) (string, error) {
	path := filepath.Join(dataDir, "installation-id")
	if b, err := os.ReadFile(path); err == nil {
		return strings.TrimSpace(string(b)), nil
	} else if !os.IsNotExist(err) {
		return "", fmt.Errorf("read installation id: %w", err)
	}
	id := randomHex(8)
	if err := os.WriteFile(path, []byte(id+"\n"), 0o600); err != nil {
		return "", fmt.Errorf("write installation id: %w", err)
	}
	return id, nil
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}
