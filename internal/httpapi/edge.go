package httpapi

import (
	"net/http"

	"github.com/jack-paas/jack"
)

// DomainsChange is the body of POST .../domains.
type DomainsChange struct {
	Add    []string `json:"add,omitempty"`
	Remove []string `json:"remove,omitempty"`
}

// CertificateRequest is the body of PUT .../domains/{domain}/certificate:
// a PEM certificate chain and its PEM private key.
type CertificateRequest struct {
	Cert string `json:"cert"`
	Key  string `json:"key"`
}

// SwapRequest is the body of POST .../swap: the environment to exchange
// domains with.
type SwapRequest struct {
	App string `json:"app"`
	Env string `json:"env"`
}

// edgeRoutes are the endpoints of domains, certificates and edge settings.
func (s *server) edgeRoutes(env string) map[string]handlerFunc {
	return map[string]handlerFunc{
		"GET " + env + "/domains":                      s.handleListDomains,
		"POST " + env + "/domains":                     s.handleChangeDomains,
		"PUT " + env + "/domains/{domain}/certificate": s.handleSetCertificate,
		"POST " + env + "/swap":                        s.handleSwap,
		"PATCH " + env + "/edge":                       s.handleSetEdge,
	}
}

func (s *server) edgeService() (jack.EdgeService, error) {
	if s.edge == nil {
		return nil, jack.Errorf(jack.EINVALID, "this server does not manage domains")
	}
	return s.edge, nil
}

// handleListDomains answers GET .../domains.
func (s *server) handleListDomains(w http.ResponseWriter, r *http.Request) error {
	env, err := s.findEnv(r)
	if err != nil {
		return err
	}
	if s.certs == nil {
		out := make([]jack.DomainInfo, 0, len(env.Domains))
		for _, d := range env.Domains {
			out = append(out, jack.DomainInfo{Domain: d})
		}
		return writeJSON(w, http.StatusOK, out)
	}
	domains, err := s.certs.Domains(r.Context(), env.App, env.Name)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, domains)
}

// handleChangeDomains answers POST .../domains.
func (s *server) handleChangeDomains(w http.ResponseWriter, r *http.Request) error {
	var req DomainsChange
	if err := readJSON(w, r, &req); err != nil {
		return err
	}
	edge, err := s.edgeService()
	if err != nil {
		return err
	}
	env, err := s.findEnv(r)
	if err != nil {
		return err
	}
	changed, err := edge.SetDomains(r.Context(), env.App, env.Name, req.Add, req.Remove)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, s.urls.view(changed))
}

// handleSetCertificate answers PUT .../domains/{domain}/certificate.
func (s *server) handleSetCertificate(w http.ResponseWriter, r *http.Request) error {
	var req CertificateRequest
	if err := readJSON(w, r, &req); err != nil {
		return err
	}
	if s.certs == nil {
		return jack.Errorf(jack.EINVALID, "this server keeps no certificates; start jack server with --https")
	}
	domain := r.PathValue("domain")
	if err := jack.ValidateDomain(domain); err != nil {
		return err
	}
	env, err := s.findEnv(r)
	if err != nil {
		return err
	}
	cert, err := s.certs.SetCertificate(r.Context(), env.App, env.Name, domain, []byte(req.Cert), []byte(req.Key))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, cert)
}

// handleSwap answers POST .../swap.
func (s *server) handleSwap(w http.ResponseWriter, r *http.Request) error {
	var req SwapRequest
	if err := readJSON(w, r, &req); err != nil {
		return err
	}
	if err := jack.ValidateName("app", req.App); err != nil {
		return err
	}
	if err := jack.ValidateName("environment", req.Env); err != nil {
		return err
	}
	edge, err := s.edgeService()
	if err != nil {
		return err
	}
	env, err := s.findEnv(r)
	if err != nil {
		return err
	}
	if err := edge.SwapDomains(r.Context(), env.App, env.Name, req.App, req.Env); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// handleSetEdge answers PATCH .../edge.
func (s *server) handleSetEdge(w http.ResponseWriter, r *http.Request) error {
	var change jack.EdgeChange
	if err := readJSON(w, r, &change); err != nil {
		return err
	}
	edge, err := s.edgeService()
	if err != nil {
		return err
	}
	env, err := s.findEnv(r)
	if err != nil {
		return err
	}
	changed, err := edge.SetEdge(r.Context(), env.App, env.Name, change)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, s.urls.view(changed))
}
