// Package registry is the Docker registry inside Jack: distribution's
// (the registry Docker ships), embedded as a library and stored in the
// data folder, so that CI can `docker push HOST/APP:TAG` straight to the
// platform that deploys it. Jack stands in front of it: a client logs in
// with any user name and a Jack API token as the password; an app's
// repository is its name; a manifest pushed is reported (OnPush), which is
// how a push becomes a version and, where asked, a deploy.
package registry

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/distribution/distribution/v3/configuration"
	"github.com/distribution/distribution/v3/registry/api/errcode"
	"github.com/distribution/distribution/v3/registry/handlers"
	"github.com/sirupsen/logrus"

	jack "github.com/jack-paas/jack"

	// Where the registry keeps what is pushed: a folder.
	_ "github.com/distribution/distribution/v3/registry/storage/driver/filesystem"
)

// Config is what the registry needs.
type Config struct {
	// Dir is where pushed layers and manifests are kept.
	Dir string
	// Authorize says whether the holder of token may pull from (push to,
	// when push) the repository: nil, or a jack.Error, EUNAUTHORIZED for a
	// token that is not one, ENOTFOUND for a repository that is no app's.
	// repo is "" for the registry's base and catalog.
	Authorize func(ctx context.Context, token, repo string, push bool) error
	// OnPush is told of each manifest pushed: the repository, the tag (or
	// the digest, for a push by digest) and the manifest's digest. It runs
	// after the push has succeeded, on the request's goroutine: keep it
	// short.
	OnPush func(ctx context.Context, repo, ref, digest string)
	// Secret signs the registry's upload state between requests; the data
	// folder's secret key suits it.
	Secret string
	Logger *slog.Logger
}

// Registry serves the Docker Registry HTTP API v2.
type Registry struct {
	cfg   Config
	inner http.Handler
}

// New returns the registry on cfg.Dir.
func New(cfg Config) (*Registry, error) {
	if cfg.Dir == "" || cfg.Authorize == nil {
		return nil, fmt.Errorf("the registry needs a folder and a way to authorize")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	// distribution logs through logrus' global logger, every request at
	// info: only its errors go on, into Jack's log.
	hookOnce.Do(func() {
		logrus.SetOutput(io.Discard)
		logrus.AddHook(slogHook{})
	})
	hookLogger.Store(cfg.Logger)

	dc := &configuration.Configuration{}
	dc.Storage = configuration.Storage{
		"filesystem": configuration.Parameters{"rootdirectory": cfg.Dir},
		"delete":     configuration.Parameters{"enabled": true},
	}
	dc.Log.Level = "error"
	dc.Log.AccessLog.Disabled = true
	dc.HTTP.Secret = cfg.Secret
	return &Registry{cfg: cfg, inner: handlers.NewApp(context.Background(), dc)}, nil
}

// ServeHTTP checks the token and the repository, lets distribution answer,
// and reports a manifest pushed.
func (reg *Registry) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Docker-Distribution-API-Version", "registry/2.0")
	repo, push, ok := access(r)
	if !ok {
		errcode.ServeJSON(w, errcode.ErrorCodeUnsupported.WithMessage("not an endpoint of the registry API v2"))
		return
	}
	_, token, hasAuth := r.BasicAuth()
	if !hasAuth {
		reg.challenge(w, "log in with `docker login` and a Jack API token as the password")
		return
	}
	err := reg.cfg.Authorize(r.Context(), token, repo, push)
	if from := r.URL.Query().Get("from"); err == nil && from != "" {
		err = reg.cfg.Authorize(r.Context(), token, from, false) // a blob mounted from another repository
	}
	if err != nil {
		switch jack.ErrorCode(err) {
		case jack.EUNAUTHORIZED:
			reg.challenge(w, jack.ErrorMessage(err))
		default:
			errcode.ServeJSON(w, errcode.ErrorCodeDenied.WithMessage(jack.ErrorMessage(err)))
		}
		return
	}
	if !(push && isManifest(r)) || reg.cfg.OnPush == nil {
		reg.inner.ServeHTTP(w, r)
		return
	}
	rec := &statusRecorder{ResponseWriter: w}
	reg.inner.ServeHTTP(rec, r)
	if r.Method == http.MethodPut && rec.status == http.StatusCreated {
		ref := r.URL.Path[strings.LastIndex(r.URL.Path, "/")+1:]
		reg.cfg.OnPush(r.Context(), repo, ref, rec.Header().Get("Docker-Content-Digest"))
	}
}

// challenge answers 401 with the Basic challenge clients log in after.
func (reg *Registry) challenge(w http.ResponseWriter, why string) {
	w.Header().Set("WWW-Authenticate", `Basic realm="jack"`)
	errcode.ServeJSON(w, errcode.ErrorCodeUnauthorized.WithMessage(why))
}

// access returns the repository a request is about ("" for the base and
// the catalog) and whether it changes it; false if the path is not one of
// the API's.
func access(r *http.Request) (repo string, push, ok bool) {
	rest, ok := strings.CutPrefix(r.URL.Path, "/v2/")
	if !ok {
		return "", false, r.URL.Path == "/v2"
	}
	push = r.Method != http.MethodGet && r.Method != http.MethodHead
	if rest == "" || rest == "_catalog" {
		return "", push, true
	}
	for _, part := range []string{"/manifests/", "/blobs/", "/tags/"} {
		if i := strings.LastIndex(rest, part); i > 0 {
			return rest[:i], push, true
		}
	}
	return "", false, false
}

// isManifest reports whether a request is about a manifest.
func isManifest(r *http.Request) bool { return strings.Contains(r.URL.Path, "/manifests/") }

// statusRecorder remembers the status of the answer.
type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (s *statusRecorder) WriteHeader(code int) {
	s.status = code
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusRecorder) Write(b []byte) (int, error) {
	if s.status == 0 {
		s.status = http.StatusOK
	}
	return s.ResponseWriter.Write(b)
}

// slogHook passes distribution's errors to the log of the registry made
// last (logrus has one global logger).
type slogHook struct{}

var (
	hookOnce   sync.Once
	hookLogger atomic.Pointer[slog.Logger]
)

func (slogHook) Levels() []logrus.Level {
	return []logrus.Level{logrus.PanicLevel, logrus.FatalLevel, logrus.ErrorLevel}
}

func (slogHook) Fire(e *logrus.Entry) error {
	if l := hookLogger.Load(); l != nil {
		l.Error("registry: "+e.Message, "err", e.Data["error"])
	}
	return nil
}
