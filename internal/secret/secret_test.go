package secret

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"
)

func TestASealedValueOpensWithItsKeyOnly(t *testing.T) {
	dir := t.TempDir()
	key, err := LoadOrCreateKey(filepath.Join(dir, "secret-key"))
	if err != nil {
		t.Fatal(err)
	}
	box, _ := New(key)
	sealed := box.Seal([]byte("s3cret"))
	if bytes.Contains(sealed, []byte("s3cret")) {
		t.Fatal("the sealed value shows the secret")
	}
	if again := box.Seal([]byte("s3cret")); bytes.Equal(again, sealed) {
		t.Fatal("sealing twice gives the same bytes: the nonce is not random")
	}
	if got, err := box.Open(sealed); err != nil || string(got) != "s3cret" {
		t.Fatalf("Open: %q, %v", got, err)
	}
	other, _ := LoadOrCreateKey(filepath.Join(t.TempDir(), "secret-key"))
	otherBox, _ := New(other)
	if _, err := otherBox.Open(sealed); !errors.Is(err, ErrOpen) {
		t.Fatalf("another key opened it: %v", err)
	}
	sealed[len(sealed)-1] ^= 1
	if _, err := box.Open(sealed); !errors.Is(err, ErrOpen) {
		t.Fatalf("a changed value opened: %v", err)
	}
}

func TestTheKeyIsMadeOnceAndKeptPrivate(t *testing.T) {
	path := filepath.Join(t.TempDir(), "secret-key")
	first, err := LoadOrCreateKey(path)
	if err != nil {
		t.Fatal(err)
	}
	second, err := LoadOrCreateKey(path)
	if err != nil || !bytes.Equal(first, second) {
		t.Fatalf("the key changed on the second load: %v", err)
	}
	if st, _ := os.Stat(path); st.Mode().Perm() != 0o600 {
		t.Fatalf("key file mode %v, want 0600", st.Mode().Perm())
	}
	os.WriteFile(path, []byte("short"), 0o600)
	if _, err := LoadOrCreateKey(path); err == nil {
		t.Fatal("a damaged key was taken")
	}
}
