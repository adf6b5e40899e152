package router

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/crypto/acme"
	"golang.org/x/crypto/acme/autocert"
)

// Folders in the data folder that hold certificates.
const (
	certsDir = "certs" // HOST.crt and HOST.key pairs, PEM, given by users
	acmeDir  = "acme"  // what the ACME client keeps: account key, certificates
)

// ACMEConfig configures automatic certificates.
type ACMEConfig struct {
	// DirectoryURL is the ACME server's directory; "" means Let's
	// Encrypt's, "off" turns ACME off.
	DirectoryURL string
	// Email is given to the CA for expiry notices; may be empty.
	Email string
	// CACertFile, when set, is a PEM file of the root(s) that the ACME
	// server's own HTTPS certificate chains to (a private CA such as Pebble
	// or step-ca); the system roots otherwise.
	CACertFile string
	// RenewBefore is how long before expiry a certificate is renewed; zero
	// means a third of its lifetime, at most 30 days.
	RenewBefore time.Duration
}

// edgeTLS picks the certificate of each TLS handshake (SNI): the user's
// certificate files first, then one obtained over ACME for a host of the
// table, and serves ACME's HTTP-01 challenges and HTTP-to-HTTPS redirects.
type edgeTLS struct {
	logger    *slog.Logger
	certDir   string
	httpsPort string // "" when HTTPS is on 443

	files    atomic.Pointer[certSet]
	loadedMu sync.Mutex
	loaded   map[string]loadedPair // by .crt path, to parse only what changed

	acme     *autocert.Manager // nil when ACME is off
	acmeHTTP http.Handler
	// eligible are the hosts ACME may get certificates for: exact hosts of
	// the table, public names, not covered by a certificate file.
	eligible atomic.Pointer[map[string]bool]
	failMu   sync.Mutex
	failures map[string]acmeFailure
	issue    chan string // hosts to get a certificate for ahead of the first visitor
	stop     chan struct{}
	stopOnce sync.Once
}

// acmeFailure holds back a host whose certificate could not be had, so
// that handshakes do not hammer the CA (Let's Encrypt limits failures).
type acmeFailure struct {
	until time.Time
	wait  time.Duration
}

// certSet is the certificates of the files, by the names they cover.
type certSet struct {
	exact    map[string]*tls.Certificate
	wildcard map[string]*tls.Certificate // "example.com" for *.example.com
}

type loadedPair struct {
	crtMod, keyMod time.Time
	cert           *tls.Certificate // nil when the pair did not load
}

// newEdgeTLS prepares HTTPS for a router whose data folder is dataDir and
// whose HTTPS address is httpsAddr.
func newEdgeTLS(dataDir, httpsAddr string, cfg ACMEConfig, logger *slog.Logger) (*edgeTLS, error) {
	e := &edgeTLS{
		logger:   logger,
		certDir:  filepath.Join(dataDir, certsDir),
		loaded:   map[string]loadedPair{},
		failures: map[string]acmeFailure{},
		issue:    make(chan string, 1024),
		stop:     make(chan struct{}),
	}
	e.setPort(httpsAddr)
	e.files.Store(&certSet{exact: map[string]*tls.Certificate{}, wildcard: map[string]*tls.Certificate{}})
	empty := map[string]bool{}
	e.eligible.Store(&empty)
	if cfg.DirectoryURL != "off" {
		m, err := newACMEManager(filepath.Join(dataDir, acmeDir), cfg, e.hostPolicy)
		if err != nil {
			return nil, err
		}
		e.acme = m
		e.acmeHTTP = m.HTTPHandler(http.NotFoundHandler())
		go e.issueAhead()
	}
	e.reloadFiles()
	return e, nil
}

// setPort sets the port redirects to HTTPS name, from the address HTTPS
// listens on ("" for 443).
func (e *edgeTLS) setPort(addr string) {
	if _, port, err := net.SplitHostPort(addr); err == nil && port != "443" {
		e.httpsPort = port
	} else {
		e.httpsPort = ""
	}
}

// newACMEManager returns an autocert manager keeping its state in dir.
func newACMEManager(dir string, cfg ACMEConfig, policy autocert.HostPolicy) (*autocert.Manager, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("create ACME folder: %w", err)
	}
	client := &acme.Client{DirectoryURL: cfg.DirectoryURL, UserAgent: "jack-router"}
	if client.DirectoryURL == "" {
		client.DirectoryURL = autocert.DefaultACMEDirectory
	}
	if cfg.CACertFile != "" {
		pem, err := os.ReadFile(cfg.CACertFile)
		if err != nil {
			return nil, fmt.Errorf("read the ACME server's CA certificate: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("%s holds no PEM certificate", cfg.CACertFile)
		}
		client.HTTPClient = &http.Client{
			Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}, Proxy: http.ProxyFromEnvironment},
			Timeout:   time.Minute,
		}
	}
	return &autocert.Manager{
		Prompt:      autocert.AcceptTOS,
		Cache:       autocert.DirCache(dir),
		HostPolicy:  policy,
		RenewBefore: cfg.RenewBefore,
		Client:      client,
		Email:       cfg.Email,
	}, nil
}

// close stops the background issuance.
func (e *edgeTLS) close() {
	e.stopOnce.Do(func() { close(e.stop) })
}

// maxFrameSize is the largest HTTP/2 frame the HTTPS server reads: the
// protocol's default (RFC 9113, 4.2), not Go's 1 MiB. Go's server keeps a
// read buffer as large as the largest frame a connection has sent, for the
// connection's life: with 1 MiB, 200 idle clients that had each sent one
// large HEADERS frame held 220 MiB of the router's heap. curl (nghttp2)
// sends 16 KiB frames whatever the server allows, Go's client up to 512
// KiB; smaller frames cost a 9-byte header per 16 KiB, and TLS cuts its
// records at 16 KiB anyway.
const maxFrameSize = 16 << 10

// configure makes srv the HTTPS server: its TLS configuration and its
// HTTP/2 settings.
func (e *edgeTLS) configure(srv *http.Server) {
	srv.TLSConfig = e.tlsConfig()
	srv.HTTP2 = &http.HTTP2Config{MaxReadFrameSize: maxFrameSize}
}

// tlsConfig is the HTTPS server's configuration: certificates by SNI,
// HTTP/2 and HTTP/1.1, and ACME's TLS-ALPN-01.
func (e *edgeTLS) tlsConfig() *tls.Config {
	return &tls.Config{
		GetCertificate: e.getCertificate,
		NextProtos:     []string{"h2", "http/1.1", acme.ALPNProto},
		MinVersion:     tls.VersionTLS12,
	}
}

// getCertificate chooses the certificate of a handshake.
func (e *edgeTLS) getCertificate(hello *tls.ClientHelloInfo) (*tls.Certificate, error) {
	if e.acme != nil && len(hello.SupportedProtos) == 1 && hello.SupportedProtos[0] == acme.ALPNProto {
		return e.acme.GetCertificate(hello) // a TLS-ALPN-01 validation
	}
	name := strings.TrimSuffix(strings.ToLower(hello.ServerName), ".")
	if name == "" {
		return nil, errors.New("the client sent no server name (SNI); this router picks certificates by name")
	}
	if c := e.files.Load().find(name); c != nil {
		return c, nil
	}
	if e.acme != nil && (*e.eligible.Load())[name] {
		if err := e.heldBack(name); err != nil {
			return nil, err
		}
		c, err := e.acme.GetCertificate(hello)
		if err != nil {
			e.failed(name, err)
			return nil, err
		}
		e.succeeded(name)
		return c, nil
	}
	return nil, fmt.Errorf("no certificate for %s: add one with `jack domains add APP/ENV %s --cert FILE --key FILE`, or point its DNS here for an automatic one", name, name)
}

// find returns the file certificate for name: exact, else a wildcard one
// label up.
func (s *certSet) find(name string) *tls.Certificate {
	if c := s.exact[name]; c != nil {
		return c
	}
	if i := strings.IndexByte(name, '.'); i > 0 {
		return s.wildcard[name[i+1:]]
	}
	return nil
}

// covers reports whether a file certificate serves name.
func (s *certSet) covers(name string) bool { return s.find(name) != nil }

// hostPolicy lets ACME get certificates only for the table's hosts.
func (e *edgeTLS) hostPolicy(_ context.Context, host string) error {
	host = canonicalHost(host)
	if !(*e.eligible.Load())[host] {
		return fmt.Errorf("acme: %s is not a host of this router", host)
	}
	return nil
}

// heldBack returns an error while a host's last failure holds it back.
func (e *edgeTLS) heldBack(host string) error {
	e.failMu.Lock()
	defer e.failMu.Unlock()
	if f, ok := e.failures[host]; ok && time.Now().Before(f.until) {
		return fmt.Errorf("no certificate for %s yet: the last attempt failed; the next is in %s", host, time.Until(f.until).Round(time.Second))
	}
	return nil
}

// acmeFirstRetry is how long a host waits after its first failed
// issuance; each failure doubles it, up to an hour. Let's Encrypt allows 5
// failed validations per host and hour.
var acmeFirstRetry = time.Minute

func (e *edgeTLS) failed(host string, err error) {
	e.failMu.Lock()
	f := e.failures[host]
	f.wait = min(max(2*f.wait, acmeFirstRetry), time.Hour)
	f.until = time.Now().Add(f.wait)
	e.failures[host] = f
	e.failMu.Unlock()
	e.logger.Warn("could not get a certificate over ACME", "host", host, "err", err, "retry_in", f.wait)
}

func (e *edgeTLS) succeeded(host string) {
	e.failMu.Lock()
	delete(e.failures, host)
	e.failMu.Unlock()
}

// tableChanged reloads the certificate files and works out which hosts
// ACME serves; new ones get their certificate in the background.
func (e *edgeTLS) tableChanged(t *table) {
	files := e.reloadFiles()
	if e.acme == nil {
		return
	}
	old := *e.eligible.Load()
	next := map[string]bool{}
	for _, h := range t.hosts() {
		if publicName(h) && !files.covers(h) {
			next[h] = true
		}
	}
	e.eligible.Store(&next)
	for h := range next {
		if !old[h] {
			select {
			case e.issue <- h:
			default:
			}
		}
	}
}

// issueAhead gets certificates for new hosts one at a time, so the first
// visitor does not wait for the CA.
func (e *edgeTLS) issueAhead() {
	for {
		select {
		case <-e.stop:
			return
		case host := <-e.issue:
			if !(*e.eligible.Load())[host] || e.heldBack(host) != nil {
				continue
			}
			hello := &tls.ClientHelloInfo{
				ServerName:       host,
				CipherSuites:     []uint16{tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256},
				SignatureSchemes: []tls.SignatureScheme{tls.ECDSAWithP256AndSHA256},
				SupportedCurves:  []tls.CurveID{tls.CurveP256},
			}
			if _, err := e.getCertificate(hello); err == nil {
				e.logger.Info("certificate ready", "host", host)
			}
		}
	}
}

// publicName reports whether a CA could validate name: a dotted DNS name,
// not an IP address and not under a special-use suffix.
func publicName(name string) bool {
	if !strings.Contains(name, ".") || net.ParseIP(name) != nil || strings.HasPrefix(name, "*") {
		return false
	}
	for _, suffix := range []string{".localhost", ".local", ".internal", ".test", ".invalid", ".example", ".home.arpa"} {
		if strings.HasSuffix(name, suffix) {
			return false
		}
	}
	return true
}

// reloadFiles loads the HOST.crt and HOST.key pairs of the certificate
// folder, parsing only files that changed, and returns the set in force.
// A pair that does not load is skipped with a log line; the others serve.
func (e *edgeTLS) reloadFiles() *certSet {
	e.loadedMu.Lock()
	defer e.loadedMu.Unlock()
	entries, err := os.ReadDir(e.certDir)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		e.logger.Warn("could not read the certificate folder", "dir", e.certDir, "err", err)
		return e.files.Load()
	}
	set := &certSet{exact: map[string]*tls.Certificate{}, wildcard: map[string]*tls.Certificate{}}
	seen := map[string]bool{}
	for _, entry := range entries {
		name := entry.Name()
		if !strings.HasSuffix(name, ".crt") || entry.IsDir() {
			continue
		}
		crtPath := filepath.Join(e.certDir, name)
		keyPath := strings.TrimSuffix(crtPath, ".crt") + ".key"
		seen[crtPath] = true
		crtInfo, err1 := os.Stat(crtPath)
		keyInfo, err2 := os.Stat(keyPath)
		if err1 != nil || err2 != nil {
			continue
		}
		prev, ok := e.loaded[crtPath]
		if !ok || !prev.crtMod.Equal(crtInfo.ModTime()) || !prev.keyMod.Equal(keyInfo.ModTime()) {
			prev = loadedPair{crtMod: crtInfo.ModTime(), keyMod: keyInfo.ModTime()}
			cert, err := tls.LoadX509KeyPair(crtPath, keyPath)
			if err != nil {
				e.logger.Error("certificate file skipped", "file", crtPath, "err", err)
			} else {
				prev.cert = &cert
			}
			e.loaded[crtPath] = prev
		}
		if prev.cert != nil {
			set.add(prev.cert)
		}
	}
	for p := range e.loaded {
		if !seen[p] {
			delete(e.loaded, p)
		}
	}
	e.files.Store(set)
	return set
}

// add indexes a certificate by the names it covers.
func (s *certSet) add(c *tls.Certificate) {
	leaf := c.Leaf
	if leaf == nil {
		return
	}
	names := leaf.DNSNames
	if len(names) == 0 && leaf.Subject.CommonName != "" {
		names = []string{leaf.Subject.CommonName}
	}
	for _, n := range names {
		n = strings.ToLower(n)
		if rest, ok := strings.CutPrefix(n, "*."); ok {
			s.wildcard[rest] = c
		} else {
			s.exact[n] = c
		}
	}
}

// servesChallenge reports whether r is an ACME HTTP-01 validation for a
// host ACME serves.
func (e *edgeTLS) servesChallenge(r *http.Request, host string) bool {
	return e.acme != nil && r.TLS == nil && strings.HasPrefix(r.URL.Path, "/.well-known/acme-challenge/") && (*e.eligible.Load())[host]
}

func (e *edgeTLS) serveChallenge(w http.ResponseWriter, r *http.Request) {
	e.acmeHTTP.ServeHTTP(w, r)
}

// redirect sends a plain HTTP request to the same URL over HTTPS: 301 for
// GET and HEAD, 308 (which keeps the method and body) for the others.
func (e *edgeTLS) redirect(w http.ResponseWriter, r *http.Request) {
	host := canonicalHost(r.Host)
	if strings.Contains(host, ":") && !strings.HasPrefix(host, "[") {
		host = "[" + host + "]"
	}
	if e.httpsPort != "" {
		host += ":" + e.httpsPort
	}
	status := http.StatusPermanentRedirect
	if r.Method == http.MethodGet || r.Method == http.MethodHead {
		status = http.StatusMovedPermanently
	}
	w.Header()["Location"] = []string{"https://" + host + requestTarget(r)}
	writePage(w, status, "This site is served over HTTPS.\n")
}
