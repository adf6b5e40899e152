package deploy

import (
	"context"
	"slices"

	jack "github.com/jack-paas/jack"
)

var (
	_ jack.EdgeService        = (*Orchestrator)(nil)
	_ jack.CertificateService = (*Orchestrator)(nil)
)

// SetDomains adds and removes custom domains of a web environment, stores
// them and sends the router the new table. A domain being removed loses its
// certificate file.
func (o *Orchestrator) SetDomains(ctx context.Context, app, envName string, add, remove []string) (*jack.Environment, error) {
	if len(add) == 0 && len(remove) == 0 {
		return nil, jack.Errorf(jack.EINVALID, "nothing to change: give domains to add or remove")
	}
	for _, d := range append(append([]string(nil), add...), remove...) {
		if err := jack.ValidateDomain(d); err != nil {
			return nil, err
		}
	}
	o.edgeMu.Lock()
	defer o.edgeMu.Unlock()
	env, err := o.webEnv(ctx, app, envName)
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
	if err := o.store.SetDomains(ctx, env.ID, domains); err != nil {
		return nil, err
	}
	for _, d := range remove {
		if o.certs != nil && !slices.Contains(domains, jack.NormalizeDomain(d)) {
			if err := o.certs.RemoveCertificate(jack.NormalizeDomain(d)); err != nil {
				o.logger.Warn("remove the certificate of a removed domain", "domain", d, "err", err)
			}
		}
	}
	o.event(env.ID, "domains", "Domains: %s", domainList(domains))
	o.publishChange(ctx)
	return o.store.FindEnv(ctx, app, envName)
}

// SwapDomains exchanges the custom domains of two web environments in one
// store transaction and one route table, so every request goes to one or
// the other, never to neither.
func (o *Orchestrator) SwapDomains(ctx context.Context, appA, envA, appB, envB string) error {
	o.edgeMu.Lock()
	defer o.edgeMu.Unlock()
	a, err := o.webEnv(ctx, appA, envA)
	if err != nil {
		return err
	}
	b, err := o.webEnv(ctx, appB, envB)
	if err != nil {
		return err
	}
	if a.ID == b.ID {
		return jack.Errorf(jack.EINVALID, "%s can't swap domains with itself; name two environments", a.Ref())
	}
	if err := o.store.SwapDomains(ctx, a.ID, b.ID); err != nil {
		return err
	}
	o.event(a.ID, "domains", "Swapped domains with %s: now %s", b.Ref(), domainList(b.Domains))
	o.event(b.ID, "domains", "Swapped domains with %s: now %s", a.Ref(), domainList(a.Domains))
	o.publishChange(ctx)
	return nil
}

// SetEdge changes an environment's edge settings and sends the router the
// new table.
func (o *Orchestrator) SetEdge(ctx context.Context, app, envName string, change jack.EdgeChange) (*jack.Environment, error) {
	if change.Empty() {
		return nil, jack.Errorf(jack.EINVALID, "nothing to change: give a body limit, the HTTPS redirect or HSTS")
	}
	o.edgeMu.Lock()
	defer o.edgeMu.Unlock()
	env, err := o.webEnv(ctx, app, envName)
	if err != nil {
		return nil, err
	}
	edge := change.Apply(env.Edge)
	if err := o.store.SetEdge(ctx, env.ID, edge); err != nil {
		return nil, err
	}
	o.event(env.ID, "edge", "Edge settings: body limit %d bytes, HTTPS redirect %t, HSTS %s", edge.Limit(), edge.RedirectHTTPS, edge.HSTS.D())
	o.publishChange(ctx)
	return o.store.FindEnv(ctx, app, envName)
}

// SetCertificate stores the certificate of one of an environment's
// domains and has the router load it.
func (o *Orchestrator) SetCertificate(ctx context.Context, app, envName, domain string, certPEM, keyPEM []byte) (*jack.Certificate, error) {
	if o.certs == nil {
		return nil, jack.Errorf(jack.EINVALID, "this server keeps no certificates; start jack server with --https")
	}
	o.edgeMu.Lock()
	defer o.edgeMu.Unlock()
	env, err := o.webEnv(ctx, app, envName)
	if err != nil {
		return nil, err
	}
	domain = jack.NormalizeDomain(domain)
	if !slices.Contains(env.Domains, domain) {
		return nil, jack.Errorf(jack.EINVALID, "%s is not a domain of %s; add it first with `jack domains add %s %s`", domain, env.Ref(), env.Ref(), domain)
	}
	cert, err := o.certs.SaveCertificate(domain, certPEM, keyPEM)
	if err != nil {
		return nil, err
	}
	o.event(env.ID, "domains", "Certificate for %s: %v, until %s", domain, cert.Names, cert.NotAfter.Format("2006-01-02"))
	o.publishChange(ctx)
	return cert, nil
}

// Domains lists an environment's custom domains with their certificates.
func (o *Orchestrator) Domains(ctx context.Context, app, envName string) ([]jack.DomainInfo, error) {
	env, err := o.store.FindEnv(ctx, app, envName)
	if err != nil {
		return nil, err
	}
	out := make([]jack.DomainInfo, 0, len(env.Domains))
	for _, d := range env.Domains {
		info := jack.DomainInfo{Domain: d}
		if o.certs != nil {
			if info.Certificate, err = o.certs.Certificate(d); err != nil {
				o.logger.Warn("read certificate", "domain", d, "err", err)
			}
		}
		out = append(out, info)
	}
	return out, nil
}

// webEnv returns an environment that gets HTTP traffic.
func (o *Orchestrator) webEnv(ctx context.Context, app, name string) (*jack.Environment, error) {
	env, err := o.store.FindEnv(ctx, app, name)
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
func (o *Orchestrator) publishChange(ctx context.Context) {
	if err := o.publish(context.WithoutCancel(ctx)); err != nil {
		o.logger.Warn("the router did not take the new table; it gets it when it is back", "err", err)
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
