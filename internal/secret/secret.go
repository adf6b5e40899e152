// Package secret seals what Jack must keep but never show (registry
// passwords today, config values next) with the server's secret key, so
// that a copy of the database alone reveals none of it. The key is 32
// random bytes in a file of the data folder, written once, mode 0600; a
// backup must take it along (the database is useless without it, which is
// the point).
package secret

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"errors"
	"fmt"
	"io/fs"
	"os"
)

// KeySize is the size of a secret key: AES-256.
const KeySize = 32

// sealVersion starts every sealed value, so that another algorithm or key
// can come later without guessing what a stored value is.
const sealVersion = 1

// Box seals and opens values with one key (AES-256-GCM, a random nonce
// per value). It is safe for concurrent use.
type Box struct {
	aead cipher.AEAD
}

// New returns a box on key, which must be KeySize bytes.
func New(key []byte) (*Box, error) {
	if len(key) != KeySize {
		return nil, fmt.Errorf("a secret key has %d bytes, not %d", KeySize, len(key))
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	return &Box{aead: aead}, nil
}

// Seal returns value sealed: a version byte, the nonce, the ciphertext.
func (b *Box) Seal(value []byte) []byte {
	out := make([]byte, 1+b.aead.NonceSize(), 1+b.aead.NonceSize()+len(value)+b.aead.Overhead())
	out[0] = sealVersion
	rand.Read(out[1:]) // never fails (crypto/rand)
	return b.aead.Seal(out, out[1:], value, nil)
}

// ErrOpen says a sealed value does not open: another key sealed it, or it
// was changed.
var ErrOpen = errors.New("a sealed value does not open with this server's secret key")

// Open returns the value a Seal made.
func (b *Box) Open(sealed []byte) ([]byte, error) {
	n := b.aead.NonceSize()
	if len(sealed) < 1+n || sealed[0] != sealVersion {
		return nil, ErrOpen
	}
	value, err := b.aead.Open(nil, sealed[1:1+n], sealed[1+n:], nil)
	if err != nil {
		return nil, ErrOpen
	}
	return value, nil
}

// LoadOrCreateKey returns the key in the file at path, making one (mode
// 0600, written to a temporary file and renamed, so a crash leaves none or
// a whole one) when there is none.
func LoadOrCreateKey(path string) ([]byte, error) {
	key, err := os.ReadFile(path)
	if err == nil {
		if len(key) != KeySize {
			return nil, fmt.Errorf("secret key %s has %d bytes, not %d: restore it from a backup", path, len(key), KeySize)
		}
		return key, nil
	} else if !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("read secret key: %w", err)
	}
	key = make([]byte, KeySize)
	rand.Read(key)
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, key, 0o600); err != nil {
		return nil, fmt.Errorf("write secret key: %w", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return nil, fmt.Errorf("write secret key: %w", err)
	}
	return key, nil
}
