package jack

import (
	"context"
	"time"
)

// DefaultBodyLimit is the largest request body the router passes to an
// environment that sets no limit of its own; past it the client gets 413.
const DefaultBodyLimit = 100 << 20

// EdgeSettings say how the router treats an environment's traffic. The zero
// value means the defaults: a 100 MiB body limit, HTTP served as it is, no
// HSTS header.
type EdgeSettings struct {
	// BodyLimit is the largest request body in bytes; 0 means
	// DefaultBodyLimit.
	BodyLimit int64 `json:"body_limit,omitempty"`
	// RedirectHTTPS answers plain HTTP requests with a redirect to HTTPS
	// (when the router serves HTTPS).
	RedirectHTTPS bool `json:"redirect_https,omitempty"`
	// HSTS is the max-age of the Strict-Transport-Security header sent on
	// HTTPS answers; 0 sends none.
	HSTS Duration `json:"hsts,omitempty"`
}

// Limit returns the body limit in force.
func (s EdgeSettings) Limit() int64 {
	if s.BodyLimit <= 0 {
		return DefaultBodyLimit
	}
	return s.BodyLimit
}

// maxBodyLimit bounds BodyLimit: beyond it an upload is better sent
// somewhere other than through a web request.
const maxBodyLimit = 64 << 30

// Validate reports settings that make no sense.
func (s EdgeSettings) Validate() error {
	if s.BodyLimit < 0 || s.BodyLimit > maxBodyLimit {
		return Errorf(EINVALID, "body limit %d is out of range; give a size from 1 byte to 64g, such as 10m", s.BodyLimit)
	}
	if s.HSTS < 0 || s.HSTS.D() > 2*365*24*time.Hour {
		return Errorf(EINVALID, "HSTS max-age %s is out of range; give 0 (off) up to 2 years, such as 8760h", s.HSTS.D())
	}
	return nil
}

// EdgeChange changes some of an environment's edge settings; nil fields
// stay as they are.
type EdgeChange struct {
	BodyLimit     *int64    `json:"body_limit,omitempty"`
	RedirectHTTPS *bool     `json:"redirect_https,omitempty"`
	HSTS          *Duration `json:"hsts,omitempty"`
}

// Apply returns s with the change made.
func (c EdgeChange) Apply(s EdgeSettings) EdgeSettings {
	if c.BodyLimit != nil {
		s.BodyLimit = *c.BodyLimit
	}
	if c.RedirectHTTPS != nil {
		s.RedirectHTTPS = *c.RedirectHTTPS
	}
	if c.HSTS != nil {
		s.HSTS = *c.HSTS
	}
	return s
}

// Empty reports whether the change changes nothing.
func (c EdgeChange) Empty() bool {
	return c.BodyLimit == nil && c.RedirectHTTPS == nil && c.HSTS == nil
}

// EdgeStore keeps what the router needs of environments beyond their
// releases: domains and edge settings. Each method changes only what it
// names, so a deployment that ends meanwhile (UpdateEnv) undoes none of it.
type EdgeStore interface {
	// SetDomains replaces the custom domains of an environment. ECONFLICT
	// naming the environment that already has one of them.
	SetDomains(ctx context.Context, envID int64, domains []string) error
	// SwapDomains exchanges the custom domains of two environments in one
	// transaction.
	SwapDomains(ctx context.Context, envA, envB int64) error
	// SetEdge saves an environment's edge settings.
	SetEdge(ctx context.Context, envID int64, edge EdgeSettings) error
}

// EdgeService changes how the router sends traffic to environments: the
// changes are stored and reach the router in one route table.
type EdgeService interface {
	// SetDomains adds and removes custom domains of an environment and
	// returns it. ECONFLICT if another environment has one of add, EINVALID
	// for a domain that is not a host name or is not the environment's to
	// remove.
	SetDomains(ctx context.Context, app, env string, add, remove []string) (*Environment, error)
	// SwapDomains exchanges the custom domains of two web environments at
	// once, as a blue/green switch.
	SwapDomains(ctx context.Context, appA, envA, appB, envB string) error
	// SetEdge changes an environment's edge settings and returns it.
	SetEdge(ctx context.Context, app, env string, change EdgeChange) (*Environment, error)
}

// Certificate describes the certificate that serves a domain over HTTPS.
type Certificate struct {
	Domain   string    `json:"domain"`
	Source   string    `json:"source"` // "file" (given by the user) or "acme"
	Names    []string  `json:"names"`  // the names it covers
	NotAfter time.Time `json:"not_after"`
}

// CertificateStore keeps the certificates users give for their domains,
// where the router finds them.
type CertificateStore interface {
	// SaveCertificate checks a PEM certificate chain and key for domain and
	// stores them. EINVALID when they do not parse, do not match, do not
	// cover the domain or have expired.
	SaveCertificate(domain string, certPEM, keyPEM []byte) (*Certificate, error)
	// RemoveCertificate removes the domain's certificate files, if any.
	RemoveCertificate(domain string) error
	// Certificate returns the certificate that serves domain: a file's, else
	// one obtained over ACME; nil when there is none yet.
	Certificate(domain string) (*Certificate, error)
}

// DomainInfo is a custom domain of an environment with its certificate.
type DomainInfo struct {
	Domain      string       `json:"domain"`
	Certificate *Certificate `json:"certificate"` // nil when HTTPS has none yet
}

// CertificateService gives domains their certificates, as users bring
// them.
type CertificateService interface {
	// SetCertificate stores the certificate of one of an environment's
	// domains; the router serves it from the next handshake.
	SetCertificate(ctx context.Context, app, env, domain string, certPEM, keyPEM []byte) (*Certificate, error)
	// Domains lists an environment's custom domains with their certificates.
	Domains(ctx context.Context, app, env string) ([]DomainInfo, error)
}
