package deploy

import (
	"context"
	"slices"
	"sync"

	jack "github.com/jack-paas/jack"
)

// Edge changes how the router reaches environments: their custom domains,
// edge settings and certificates. Each change is stored, then sent to the
// router in a new route table.
type Edge struct {
	*shared
	// certs keeps the certificate files of domains; nil refuses them.
	certs jack.CertificateStore
	// publish sends the router the route table of every environment.
	publish func(context.Context) error
	mu      sync.Mutex // serializes domain and edge changes
}

var (
	_ jack.EdgeService        = (*Edge)(nil)
	_ jack.CertificateService = (*Edge)(nil)
)

// SetDomains adds and removes custom domains of a web environment, stores
// them and sends the router the new table. A domain being removed loses its
// certificate file.
func (e *Edge) SetDomains(ctx context.Context, app, envName string, add, remove []string) (*jack.Environment, error) {
	if len(add) == 0 && len(remove) == 0 {
		return nil, jack.Errorf(jack.EINVALID, "nothing to change: give domains to add or remove")
	}
	for _, d := range append(append([]string(nil), add...), remove...) {
		if err := jack.ValidateDomain(d); err != nil {
			return nil, err
		}
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	env, err := e.webEnv(ctx, app, envName)
	if err != nil {
		return nil, err
	}
	domains := slices.Clone(env.Domains)
	for _, d := range remove {
		d = jack.NormalizeDomain(d)
		i := slices.Index(domains, d)
		if i < 0 {
			return nil, jack.Errorf(jack.EINVALID, "%s is not a domain of %s (it has %s)", d, env.Ref(), domainList(env.Domains))
		}
		domains = slices.Delete(domains, i, i+1)
	}
	for _, d := range add {
		if d = jack.NormalizeDomain(d); !slices.Contains(domains, d) {
			domains = append(domains, d)
		}
	}
	if err := e.store.SetDomains(ctx, env.ID, domains); err != nil {
		return nil, err
	}
	for _, d := range remove {
		if e.certs != nil && !slices.Contains(domains, jack.NormalizeDomain(d)) {
			if err := e.certs.RemoveCertificate(jack.NormalizeDomain(d)); err != nil {
				e.logger.Warn("remove the certificate of a removed domain", "domain", d, "err", err)
			}
		}
	}
	e.event(env.ID, "domains", "Domains: %s", domainList(domains))
	e.publishChange(ctx)
	return e.store.FindEnv(ctx, app, envName)
}

// SwapDomains exchanges the custom domains of two web environments in one
// store transaction and one route table, so every request goes to one or
// the other, never to neither.
func (e *Edge) SwapDomains(ctx context.Context, appA, envA, appB, envB string) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	a, err := e.webEnv(ctx, appA, envA)
	if err != nil {
		return err
	}
	b, err := e.webEnv(ctx, appB, envB)
	if err != nil {
		return err
	}
	if a.ID == b.ID {
		return jack.Errorf(jack.EINVALID, "%s can't swap domains with itself; name two environments", a.Ref())
	}
	if err := e.store.SwapDomains(ctx, a.ID, b.ID); err != nil {
		return err
	}
	e.event(a.ID, "domains", "Swapped domains with %s: now %s", b.Ref(), domainList(b.Domains))
	e.event(b.ID, "domains", "Swapped domains with %s: now %s", a.Ref(), domainList(a.Domains))
	e.publishChange(ctx)
	return nil
}

// SetEdge changes an environment's edge settings and sends the router the
// new table.
func (e *Edge) SetEdge(ctx context.Context, app, envName string, change jack.EdgeChange) (*jack.Environment, error) {
	if change.Empty() {
		return nil, jack.Errorf(jack.EINVALID, "nothing to change: give a body limit, the HTTPS redirect or HSTS")
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	env, err := e.webEnv(ctx, app, envName)
	if err != nil {
		return nil, err
	}
	edge := change.Apply(env.Edge)
	if err := e.store.SetEdge(ctx, env.ID, edge); err != nil {
		return nil, err
	}
	e.event(env.ID, "edge", "Edge settings: body limit %d bytes, HTTPS redirect %t, HSTS %s", edge.Limit(), edge.RedirectHTTPS, edge.HSTS.D())
	e.publishChange(ctx)
	return e.store.FindEnv(ctx, app, envName)
}

// SetCertificate stores the certificate of one of an environment's
// domains and has the router load it.
func (e *Edge) SetCertificate(ctx context.Context, app, envName, domain string, certPEM, keyPEM []byte) (*jack.Certificate, error) {
	if e.certs == nil {
		return nil, jack.Errorf(jack.EINVALID, "this server keeps no certificates; start jack server with --https")
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	env, err := e.webEnv(ctx, app, envName)
	if err != nil {
		return nil, err
	}
	domain = jack.NormalizeDomain(domain)
	if !slices.Contains(env.Domains, domain) {
		return nil, jack.Errorf(jack.EINVALID, "%s is not a domain of %s; add it first with `jack domains add %s %s`", domain, env.Ref(), env.Ref(), domain)
	}
	cert, err := e.certs.SaveCertificate(domain, certPEM, keyPEM)
	if err != nil {
		return nil, err
	}
	e.event(env.ID, "domains", "Certificate for %s: %v, until %s", domain, cert.Names, cert.NotAfter.Format("2006-01-02"))
	e.publishChange(ctx)
	return cert, nil
}

// Domains lists an environment's custom domains with their certificates.
func (e *Edge) Domains(ctx context.Context, app, envName string) ([]jack.DomainInfo, error) {
	env, err := e.store.FindEnv(ctx, app, envName)
	if err != nil {
		return nil, err
	}
	out := make([]jack.DomainInfo, 0, len(env.Domains))
	for _, d := range env.Domains {
		info := jack.DomainInfo{Domain: d}
		if e.certs != nil {
			if info.Certificate, err = e.certs.Certificate(d); err != nil {
				e.logger.Warn("read certificate", "domain", d, "err", err)
			}
		}
		out = append(out, info)
	}
	return out, nil
}

// webEnv returns an environment that gets HTTP traffic.
func (e *Edge) webEnv(ctx context.Context, app, name string) (*jack.Environment, error) {
	env, err := e.store.FindEnv(ctx, app, name)
	if err != nil {
		return nil, err
	}
	if env.Tier != jack.TierWeb {
		return nil, jack.Errorf(jack.EINVALID, "%s is a worker environment and gets no HTTP traffic; domains and edge settings are for web environments", env.Ref())
	}
	return env, nil
}

// publishChange sends the router a table after a stored change. A router
// that does not answer gets the table when the watchdog restarts it, so
// the change stands and the failure is only logged.
func (e *Edge) publishChange(ctx context.Context) {
	if err := e.publish(context.WithoutCancel(ctx)); err != nil {
		e.logger.Warn("the router did not take the new table; it gets it when it is back", "err", err)
	}
}

func domainList(domains []string) string {
	if len(domains) == 0 {
		return "none"
	}
	return joinComma(domains)
}

func joinComma(s []string) string {
	out := ""
	for i, d := range s {
		if i > 0 {
			out += ", "
		}
		out += d
	}
	return out
}
