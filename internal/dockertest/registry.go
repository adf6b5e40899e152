package dockertest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"testing"

	"github.com/distribution/distribution/v3/configuration"
	"github.com/distribution/distribution/v3/registry/handlers"
	"github.com/docker/docker/api/types/image"
	"github.com/docker/docker/api/types/registry"
	"github.com/docker/docker/client"
	"github.com/docker/docker/pkg/jsonmessage"
	"github.com/sirupsen/logrus"
	"golang.org/x/crypto/bcrypt"

	// The registry's storage and its password check.
	_ "github.com/distribution/distribution/v3/registry/auth/htpasswd"
	_ "github.com/distribution/distribution/v3/registry/storage/driver/filesystem"
)

// Registry is a Docker registry (distribution's, the one Docker ships)
// that a test runs on loopback, so that images can be pushed and pulled
// without the internet. The engine talks plain HTTP to registries on
// 127.0.0.0/8.
type Registry struct {
	// Host is the registry's address, host:port, as image references name
	// it: Host + "/notes:v1".
	Host string
	// Username and Password are what it asks for, when it asks.
	Username, Password string
	srv                *http.Server
}

// StartRegistry starts a registry for the test, storing in a folder of
// the test's; with a username, it refuses whoever does not give that
// username and password. It stops when the test ends.
func StartRegistry(t testing.TB, username, password string) *Registry {
	t.Helper()
	logrus.SetOutput(io.Discard) // distribution logs through logrus
	cfg := &configuration.Configuration{}
	cfg.Storage = configuration.Storage{"filesystem": configuration.Parameters{"rootdirectory": t.TempDir()}}
	cfg.Log.Level = "error"
	cfg.Log.AccessLog.Disabled = true
	cfg.HTTP.Secret = "dockertest"
	if username != "" {
		hash, err := bcrypt.GenerateFromPassword([]byte(password), bcrypt.MinCost)
		if err != nil {
			t.Fatal(err)
		}
		file := filepath.Join(t.TempDir(), "htpasswd")
		if err := os.WriteFile(file, fmt.Appendf(nil, "%s:%s\n", username, hash), 0o600); err != nil {
			t.Fatal(err)
		}
		cfg.Auth = configuration.Auth{"htpasswd": configuration.Parameters{"realm": "dockertest", "path": file}}
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	reg := &Registry{Host: ln.Addr().String(), Username: username, Password: password}
	reg.srv = &http.Server{Handler: handlers.NewApp(context.Background(), cfg)}
	go reg.srv.Serve(ln)
	t.Cleanup(func() { reg.srv.Close() })
	return reg
}

// Stop stops the registry before the test ends, as a registry that goes
// down does.
func (reg *Registry) Stop() { reg.srv.Close() }

// Auth returns the engine's encoding of the registry's credentials.
func (reg *Registry) Auth() string {
	if reg.Username == "" {
		return ""
	}
	auth, _ := registry.EncodeAuthConfig(registry.AuthConfig{Username: reg.Username, Password: reg.Password, ServerAddress: reg.Host})
	return auth
}

// Push tags the local image src as reg.Host/name and pushes it, then
// removes the tag, so that the engine holds the image only under src:
// pulling reg.Host/name then has to reach the registry (for a new image
// ID, at least; the layers may be known). It returns the pushed
// reference.
func (reg *Registry) Push(t testing.TB, cli *client.Client, src, name string) string {
	t.Helper()
	ctx := context.Background()
	ref := reg.Host + "/" + name
	if err := cli.ImageTag(ctx, src, ref); err != nil {
		t.Fatal(err)
	}
	defer cli.ImageRemove(ctx, ref, image.RemoveOptions{})
	rc, err := cli.ImagePush(ctx, ref, image.PushOptions{RegistryAuth: reg.authOrAnonymous()})
	if err != nil {
		t.Fatalf("push %s: %v", ref, err)
	}
	defer rc.Close()
	if err := jsonmessage.DisplayJSONMessagesStream(rc, io.Discard, 0, false, nil); err != nil {
		var jerr *jsonmessage.JSONError
		if errors.As(err, &jerr) {
			t.Fatalf("push %s: %s", ref, jerr.Message)
		}
		t.Fatalf("push %s: %v", ref, err)
	}
	return ref
}

// authOrAnonymous returns the credentials to push with: the engine wants
// an encoded (possibly empty) auth config for a push.
func (reg *Registry) authOrAnonymous() string {
	if auth := reg.Auth(); auth != "" {
		return auth
	}
	auth, _ := registry.EncodeAuthConfig(registry.AuthConfig{})
	return auth
}
