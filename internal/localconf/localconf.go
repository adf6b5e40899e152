// Package localconf reads and writes the small files through which the
// jack CLI finds its API and token: the one `jack login` writes, and the
// pointer `jack server` leaves for clients on the same machine. Both live
// in the user's config folder (os.UserConfigDir()/jack) with mode 0600.
package localconf

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// File names inside Dir.
const (
	loginFile       = "config.json"
	localServerFile = "local-server.json"
)

// Login is what `jack login` remembers.
type Login struct {
	API   string `json:"api,omitempty"`
	Token string `json:"token,omitempty"`
}

// LocalServer points clients on the same machine at a running `jack
// server`: its API address and the file holding its admin token.
type LocalServer struct {
	API       string `json:"api"`
	TokenFile string `json:"token_file"`
}

// Dir returns the folder of Jack's client files, os.UserConfigDir()/jack.
func Dir() (string, error) {
	base, err := os.UserConfigDir()
	if err != nil {
		return "", fmt.Errorf("find the user's config folder: %w", err)
	}
	return filepath.Join(base, "jack"), nil
}

// LoginPath returns the path of the file `jack login` writes.
func LoginPath() (string, error) { return inDir(loginFile) }

// LocalServerPath returns the path of the local server's pointer file.
func LocalServerPath() (string, error) { return inDir(localServerFile) }

// ReadLogin returns what `jack login` stored; nil, and no error, when it
// never ran.
func ReadLogin() (*Login, error) {
	var l Login
	if ok, err := read(loginFile, &l); !ok {
		return nil, err
	}
	return &l, nil
}

// WriteLogin stores the API address and token for later commands.
func WriteLogin(l Login) error { return write(loginFile, l) }

// ReadLocalServer returns the pointer a local `jack server` wrote; nil, and
// no error, when there is none.
func ReadLocalServer() (*LocalServer, error) {
	var s LocalServer
	if ok, err := read(localServerFile, &s); !ok {
		return nil, err
	}
	return &s, nil
}

// WriteLocalServer records, for clients on this machine, where the API of
// the server that is starting listens (a URL such as
// http://127.0.0.1:7070) and the file that holds its admin token.
func WriteLocalServer(api, tokenFile string) error {
	return write(localServerFile, LocalServer{API: api, TokenFile: tokenFile})
}

// RemoveLocalServer removes the pointer, for a server that stops for good.
// A missing pointer is not an error.
func RemoveLocalServer() error {
	p, err := LocalServerPath()
	if err != nil {
		return err
	}
	if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("remove %s: %w", p, err)
	}
	return nil
}

// inDir returns the path of a file in Dir.
func inDir(name string) (string, error) {
	dir, err := Dir()
	if err != nil {
		return "", err
	}
	return filepath.Join(dir, name), nil
}

// read decodes a file of Dir into v and reports whether it existed.
func read(name string, v any) (bool, error) {
	p, err := inDir(name)
	if err != nil {
		return false, err
	}
	buf, err := os.ReadFile(p)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	} else if err != nil {
		return false, fmt.Errorf("read %s: %w", p, err)
	}
	if err := json.Unmarshal(buf, v); err != nil {
		return false, fmt.Errorf("read %s: not valid JSON (%v); remove it or run `jack login` again", p, err)
	}
	return true, nil
}

// write stores v as JSON in a file of Dir, readable by the user only
// (os.CreateTemp makes it 0600). It writes a temporary file and renames it,
// so a reader never sees half a file.
func write(name string, v any) error {
	p, err := inDir(name)
	if err != nil {
		return err
	}
	buf, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return fmt.Errorf("encode %s: %w", name, err)
	}
	if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
		return fmt.Errorf("create %s: %w", filepath.Dir(p), err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(p), name+".*")
	if err != nil {
		return fmt.Errorf("write %s: %w", p, err)
	}
	defer os.Remove(tmp.Name()) // fails harmlessly after the rename
	if _, err := tmp.Write(append(buf, '\n')); err != nil {
		tmp.Close()
		return fmt.Errorf("write %s: %w", p, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write %s: %w", p, err)
	}
	if err := os.Rename(tmp.Name(), p); err != nil {
		return fmt.Errorf("write %s: %w", p, err)
	}
	return nil
}
