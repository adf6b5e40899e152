package client

import (
	"context"
	"net/http"

	"github.com/jack-paas/jack"
	"github.com/jack-paas/jack/internal/httpapi"
)

// Bodies of the domain and edge endpoints.
type (
	// DomainsChange adds and removes domains.
	DomainsChange = httpapi.DomainsChange
	// CertificateRequest carries a PEM certificate chain and key.
	CertificateRequest = httpapi.CertificateRequest
	// SwapRequest names the environment to swap domains with.
	SwapRequest = httpapi.SwapRequest
)

// Domains lists an environment's custom domains with their certificates.
func (c *Client) Domains(ctx context.Context, app, env string) ([]jack.DomainInfo, error) {
	var out []jack.DomainInfo
	err := c.do(ctx, http.MethodGet, envPath(app, env, "domains"), nil, &out)
	return out, err
}

// ChangeDomains adds and removes custom domains of an environment and
// returns it. ECONFLICT if another environment has one of them.
func (c *Client) ChangeDomains(ctx context.Context, app, env string, change DomainsChange) (*Env, error) {
	var e Env
	if err := c.do(ctx, http.MethodPost, envPath(app, env, "domains"), change, &e); err != nil {
		return nil, err
	}
	return &e, nil
}

// SetCertificate gives one of an environment's domains its certificate.
func (c *Client) SetCertificate(ctx context.Context, app, env, domain string, req CertificateRequest) (*jack.Certificate, error) {
	var cert jack.Certificate
	if err := c.do(ctx, http.MethodPut, envPath(app, env, "domains", domain, "certificate"), req, &cert); err != nil {
		return nil, err
	}
	return &cert, nil
}

// SwapDomains exchanges the custom domains of two environments at once.
func (c *Client) SwapDomains(ctx context.Context, app, env, otherApp, otherEnv string) error {
	return c.do(ctx, http.MethodPost, envPath(app, env, "swap"), SwapRequest{App: otherApp, Env: otherEnv}, nil)
}

// SetEdge changes an environment's edge settings and returns it.
func (c *Client) SetEdge(ctx context.Context, app, env string, change jack.EdgeChange) (*Env, error) {
	var e Env
	if err := c.do(ctx, http.MethodPatch, envPath(app, env, "edge"), change, &e); err != nil {
		return nil, err
	}
	return &e, nil
}
