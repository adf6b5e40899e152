package router

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/jack-paas/jack"
)

// CertStore keeps the certificates users give for their domains in the
// data folder's certs/ (DOMAIN.crt and DOMAIN.key, "*" written as "_"),
// where the router loads them at its next table. It also reports the
// certificates the router obtained over ACME. It implements
// jack.CertificateStore for the daemon.
type CertStore struct {
	dataDir string
	now     func() time.Time
}

var _ jack.CertificateStore = (*CertStore)(nil)

// NewCertStore returns the certificate store of the data folder dataDir.
func NewCertStore(dataDir string) *CertStore {
	return &CertStore{dataDir: dataDir, now: time.Now}
}

func (s *CertStore) paths(domain string) (crt, key string) {
	base := filepath.Join(s.dataDir, certsDir, strings.ReplaceAll(domain, "*", "_"))
	return base + ".crt", base + ".key"
}

// SaveCertificate checks the pair and writes it: the key readable by the
// owner only, each file replaced atomically.
func (s *CertStore) SaveCertificate(domain string, certPEM, keyPEM []byte) (*jack.Certificate, error) {
	if err := jack.ValidateDomain(domain); err != nil {
		return nil, err
	}
	domain = jack.NormalizeDomain(domain)
	pair, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		return nil, jack.Errorf(jack.EINVALID, "the certificate and key for %s are not a usable pair: %s", domain, pairProblem(err))
	}
	leaf := pair.Leaf
	if err := leaf.VerifyHostname(sampleHost(domain)); err != nil {
		return nil, jack.Errorf(jack.EINVALID, "the certificate is for %s, not %s; give one that names the domain", strings.Join(certNames(leaf), ", "), domain)
	}
	if now := s.now(); now.After(leaf.NotAfter) {
		return nil, jack.Errorf(jack.EINVALID, "the certificate for %s expired on %s; give a current one", domain, leaf.NotAfter.Format("2006-01-02"))
	}
	crt, key := s.paths(domain)
	if err := os.MkdirAll(filepath.Dir(crt), 0o700); err != nil {
		return nil, fmt.Errorf("create certificate folder: %w", err)
	}
	if err := writeFileAtomic(key, keyPEM); err != nil {
		return nil, fmt.Errorf("save key of %s: %w", domain, err)
	}
	if err := writeFileAtomic(crt, certPEM); err != nil {
		return nil, fmt.Errorf("save certificate of %s: %w", domain, err)
	}
	return &jack.Certificate{Domain: domain, Source: "file", Names: certNames(leaf), NotAfter: leaf.NotAfter}, nil
}

// RemoveCertificate removes a domain's certificate files.
func (s *CertStore) RemoveCertificate(domain string) error {
	crt, key := s.paths(jack.NormalizeDomain(domain))
	for _, p := range []string{crt, key} {
		if err := os.Remove(p); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("remove certificate of %s: %w", domain, err)
		}
	}
	return nil
}

// Certificate returns the certificate that serves domain: a file's, else
// one the router obtained over ACME; nil when there is none.
func (s *CertStore) Certificate(domain string) (*jack.Certificate, error) {
	domain = jack.NormalizeDomain(domain)
	crt, key := s.paths(domain)
	if pair, err := tls.LoadX509KeyPair(crt, key); err == nil {
		return &jack.Certificate{Domain: domain, Source: "file", Names: certNames(pair.Leaf), NotAfter: pair.Leaf.NotAfter}, nil
	} else if !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("load certificate of %s: %w", domain, err)
	}
	// autocert keeps "DOMAIN" (ECDSA) and "DOMAIN+rsa": key, then chain.
	data, err := os.ReadFile(filepath.Join(s.dataDir, acmeDir, domain))
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	} else if err != nil {
		return nil, err
	}
	for rest := data; len(rest) > 0; {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			break
		}
		if block.Type != "CERTIFICATE" {
			continue
		}
		leaf, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("parse ACME certificate of %s: %w", domain, err)
		}
		return &jack.Certificate{Domain: domain, Source: "acme", Names: certNames(leaf), NotAfter: leaf.NotAfter}, nil
	}
	return nil, nil
}

// sampleHost is a name a certificate for domain must cover: the domain,
// or a name under a wildcard.
func sampleHost(domain string) string {
	if rest, ok := strings.CutPrefix(domain, "*."); ok {
		return "jack-check." + rest
	}
	return domain
}

func certNames(leaf *x509.Certificate) []string {
	if len(leaf.DNSNames) > 0 {
		return leaf.DNSNames
	}
	return []string{leaf.Subject.CommonName}
}

// pairProblem says in words what tls.X509KeyPair found wrong.
func pairProblem(err error) string {
	msg := err.Error()
	switch {
	case strings.Contains(msg, "does not match"):
		return "the key does not match the certificate"
	case strings.Contains(msg, "failed to find any PEM data in certificate"):
		return "the certificate file holds no PEM certificate"
	case strings.Contains(msg, "failed to find any PEM data in key"), strings.Contains(msg, "failed to find PEM block with type ending in"):
		return "the key file holds no PEM private key"
	}
	return strings.TrimPrefix(msg, "tls: ")
}
