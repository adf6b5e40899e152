package jack

import (
	"context"
	"regexp"
	"strings"
	"time"
)

// RegistryAuth is what Jack gives a registry to pull from it (and what it
// gives Swarm nodes to pull with): the credentials a user stored for the
// registry's host with `jack registries add`. Its password never leaves
// the server in an answer, an event or a log.
type RegistryAuth struct {
	Host      string    `json:"host"` // the registry's host[:port], as in image references
	Username  string    `json:"username"`
	Password  string    `json:"-"`
	CreatedAt time.Time `json:"created_at"`
}

// registryHostRE matches a registry host as image references name it: a
// DNS name or IPv4 address, or [IPv6], with an optional port.
var registryHostRE = regexp.MustCompile(`^(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*|\[[0-9a-fA-F:.]+\])(?::[0-9]{1,5})?$`)

// NormalizeRegistryHost returns host as image references name it: without
// a scheme or a path, lower case, and "docker.io" for Docker Hub's other
// names (what `docker login` takes).
func NormalizeRegistryHost(host string) string {
	host = strings.TrimSpace(host)
	for _, scheme := range []string{"https://", "http://"} {
		host = strings.TrimPrefix(host, scheme)
	}
	host, _, _ = strings.Cut(host, "/")
	host = strings.ToLower(host)
	switch host {
	case "index.docker.io", "registry-1.docker.io", "registry.hub.docker.com":
		return "docker.io"
	}
	return host
}

// Validate normalizes the host and checks that the credentials are whole.
func (a *RegistryAuth) Validate() error {
	a.Host = NormalizeRegistryHost(a.Host)
	switch {
	case a.Host == "":
		return Errorf(EINVALID, "give the registry's host, e.g. registry.example.com or localhost:5000")
	case !registryHostRE.MatchString(a.Host):
		return Errorf(EINVALID, "%q is not a registry host; give host[:port], e.g. registry.example.com or localhost:5000", a.Host)
	case a.Username == "":
		return Errorf(EINVALID, "give the user name for %s", a.Host)
	case a.Password == "":
		return Errorf(EINVALID, "give the password (or token) for %s", a.Host)
	}
	return nil
}

// RegistryStore keeps the credentials of the registries Jack pulls from,
// their passwords sealed with the server's secret key.
type RegistryStore interface {
	// PutRegistry stores a registry's credentials, replacing any for the
	// same host.
	PutRegistry(ctx context.Context, auth *RegistryAuth) error
	// ListRegistries returns every registry's credentials, by host,
	// without their passwords.
	ListRegistries(ctx context.Context) ([]*RegistryAuth, error)
	// FindRegistry returns a host's credentials with the password, for a
	// pull. ENOTFOUND if none are stored.
	FindRegistry(ctx context.Context, host string) (*RegistryAuth, error)
	// DeleteRegistry forgets a host's credentials. ENOTFOUND if none.
	DeleteRegistry(ctx context.Context, host string) error
}

// PullProgress is how far a pull has come: layers and bytes, as the engine
// reports them while it downloads.
type PullProgress struct {
	Layers     int   // layers of the image
	Done       int   // layers downloaded and extracted (or already there)
	Downloaded int64 // bytes downloaded so far
	Total      int64 // bytes to download, of the layers whose size is known
}

// RegistryService manages the credentials Jack pulls with.
type RegistryService interface {
	// AddRegistry checks credentials with the registry, as `docker login`
	// does, and stores them, replacing any for the host. EINVALID if they
	// are not whole or the registry refuses them; EUNAVAILABLE if it does
	// not answer.
	AddRegistry(ctx context.Context, auth *RegistryAuth) error
	// ListRegistries returns the stored credentials, without passwords.
	ListRegistries(ctx context.Context) ([]*RegistryAuth, error)
	// RemoveRegistry forgets a host's credentials. ENOTFOUND if none.
	RemoveRegistry(ctx context.Context, host string) error
}

// tagRE matches an image tag, as Docker's reference grammar has it.
var tagRE = regexp.MustCompile(`^[\w][\w.-]{0,127}$`)

// ValidateTag checks an image tag, such as one that deploys on push.
func ValidateTag(tag string) error {
	if !tagRE.MatchString(tag) {
		return Errorf(EINVALID, "%q is not an image tag; a tag is letters, digits, _ . and -, at most 128, e.g. main or v1.2", tag)
	}
	return nil
}
