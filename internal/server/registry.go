package server

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"time"

	jack "github.com/jack-paas/jack"
	"github.com/jack-paas/jack/internal/httpapi"
	"github.com/jack-paas/jack/internal/registry"
)

// builtinRegistry is the registry inside Jack (--registry): where it
// listens, the host the engine pulls from (loopback when it listens on
// every address), and the pull token Jack itself uses, made anew at each
// start and kept in memory only.
type builtinRegistry struct {
	srv       *http.Server
	pullHost  string
	pullToken string
}

// openRegistry listens on cfg.RegistryAddr, when set, before anything that
// pulls from it starts.
func (m *Main) openRegistry() error {
	if m.cfg.RegistryAddr == "" {
		return nil
	}
	ln, err := net.Listen("tcp", m.cfg.RegistryAddr)
	if err != nil {
		return fmt.Errorf("listen for the registry on %s: %w", m.cfg.RegistryAddr, err)
	}
	token := make([]byte, 32)
	rand.Read(token)
	m.registry = &builtinRegistry{pullHost: pullHost(ln.Addr()), pullToken: hex.EncodeToString(token)}
	if !isLoopback(ln.Addr()) {
		m.logger.Warn("the registry serves plain HTTP on a non-loopback address: Docker clients elsewhere must list it in insecure-registries (TLS comes with Jack's certificates later)", "addr", ln.Addr().String())
	}
	m.registryLn = ln
	return nil
}

// startRegistry serves the registry opened by openRegistry.
func (m *Main) startRegistry() error {
	if m.registry == nil {
		return nil
	}
	reg, err := registry.New(registry.Config{
		Dir:       filepath.Join(m.cfg.DataDir, "registry"),
		Secret:    m.registrySecret(),
		Authorize: m.authorizeRegistry,
		OnPush:    m.pushed,
		Logger:    m.logger.With("part", "registry"),
	})
	if err != nil {
		return err
	}
	m.registry.srv = &http.Server{Handler: reg, ReadHeaderTimeout: 10 * time.Second}
	m.wg.Add(1)
	go func() {
		defer m.wg.Done()
		if err := m.registry.srv.Serve(m.registryLn); err != nil && err != http.ErrServerClosed {
			m.logger.Error("registry stopped", "err", err)
		}
	}()
	m.logger.Info("registry ready", "addr", m.registryLn.Addr().String(), "pull_host", m.registry.pullHost)
	return nil
}

// closeRegistry stops serving the registry.
func (m *Main) closeRegistry() {
	if m.registry != nil && m.registry.srv != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		m.registry.srv.Shutdown(ctx)
		cancel()
	} else if m.registryLn != nil {
		m.registryLn.Close()
	}
}

// registryAuth gives the engine Jack's own pull token for its registry.
func (m *Main) registryAuth(host string) *jack.RegistryAuth {
	if m.registry == nil || host != m.registry.pullHost {
		return nil
	}
	return &jack.RegistryAuth{Host: host, Username: "jack", Password: m.registry.pullToken}
}

// authorizeRegistry lets API tokens pull and push an app's repository,
// and Jack's own pull token pull.
func (m *Main) authorizeRegistry(ctx context.Context, token, repo string, push bool) error {
	if m.registry != nil && hmac.Equal([]byte(token), []byte(m.registry.pullToken)) {
		if push {
			return jack.Errorf(jack.EUNAUTHORIZED, "Jack's own pull token can't push")
		}
		return nil
	}
	if _, err := m.db.FindToken(ctx, httpapi.HashToken(token)); jack.ErrorCode(err) == jack.ENOTFOUND {
		return jack.Errorf(jack.EUNAUTHORIZED, "log in with a Jack API token as the password")
	} else if err != nil {
		return err
	}
	if repo == "" {
		return nil
	}
	if _, err := m.db.FindApp(ctx, repo); jack.ErrorCode(err) == jack.ENOTFOUND {
		return jack.Errorf(jack.ENOTFOUND, "no app is named %s: an app's repository is its name; create it with `jack apps create %s`", repo, repo)
	} else if err != nil {
		return err
	}
	return nil
}

// pushed makes a version of what was pushed, and deploys it where asked
// (--deploy-on-push), in the background: the push has succeeded whatever
// becomes of it.
func (m *Main) pushed(ctx context.Context, repo, ref, digest string) {
	if digest == "" {
		return
	}
	tag := ref
	if strings.HasPrefix(ref, "sha256:") {
		tag = ""
	}
	image := m.registry.pullHost + "/" + repo + "@" + digest
	m.wg.Add(1)
	go func() {
		defer m.wg.Done()
		v, err := m.orch.Pushed(m.runCtx, repo, image, tag)
		if err != nil {
			m.logger.Error("make a version of a pushed image", "repo", repo, "ref", ref, "err", err)
			return
		}
		m.logger.Info("pushed image is a version", "app", repo, "ref", ref, "version", v.Label, "digest", v.Digest)
	}()
}

// registrySecret derives the registry's upload secret from the secret key,
// so that it holds across restarts.
func (m *Main) registrySecret() string {
	mac := hmac.New(sha256.New, m.secretKey)
	mac.Write([]byte("jack registry uploads"))
	return hex.EncodeToString(mac.Sum(nil))
}

// pullHost returns the host[:port] the engine on this machine reaches the
// registry at: loopback when it listens on every address or on loopback.
func pullHost(a net.Addr) string {
	t, ok := a.(*net.TCPAddr)
	if !ok {
		return a.String()
	}
	if t.IP.IsUnspecified() || t.IP.IsLoopback() {
		return fmt.Sprintf("127.0.0.1:%d", t.Port)
	}
	return t.String()
}
