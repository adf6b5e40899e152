package router

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jack-paas/jack"
)

// testCA signs certificates for the TLS tests.
type testCA struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	pool *x509.CertPool
}

func newTestCA(t *testing.T) *testCA {
	t.Helper()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "Jack Test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return &testCA{cert: cert, key: key, pool: pool}
}

// issue returns a PEM certificate and key for names, valid until notAfter.
func (ca *testCA) issue(t *testing.T, notAfter time.Time, names ...string) (certPEM, keyPEM []byte) {
	t.Helper()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	serial, _ := rand.Int(rand.Reader, big.NewInt(1<<62))
	tmpl := &x509.Certificate{
		SerialNumber: serial, Subject: pkix.Name{CommonName: names[0]}, DNSNames: names,
		NotBefore: time.Now().Add(-2 * time.Hour), NotAfter: notAfter,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}, KeyUsage: x509.KeyUsageDigitalSignature,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, _ := x509.MarshalECPrivateKey(key)
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER})
}

// httpsClient trusts ca and sends every request to addr.
func httpsClient(ca *x509.CertPool, addr string) *http.Client {
	dialer := &net.Dialer{}
	return &http.Client{Transport: &http.Transport{
		TLSClientConfig:   &tls.Config{RootCAs: ca},
		ForceAttemptHTTP2: true,
		DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
			return dialer.DialContext(ctx, network, addr)
		},
	}, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

// serverCert returns the certificate the router at addr presents for sni.
func serverCert(addr, sni string) (*x509.Certificate, error) {
	conn, err := tls.DialWithDialer(&net.Dialer{Timeout: 5 * time.Second}, "tcp", addr, &tls.Config{ServerName: sni, InsecureSkipVerify: true})
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	return conn.ConnectionState().PeerCertificates[0], nil
}

func TestHTTPSChoosesTheCertificateBySNIAndSpeaksHTTP2(t *testing.T) {
	ca := newTestCA(t)
	dir := shortTempDir(t)
	store := NewCertStore(dir)
	shopCert, shopKey := ca.issue(t, time.Now().Add(time.Hour), "shop.example.com")
	wildCert, wildKey := ca.issue(t, time.Now().Add(time.Hour), "*.blog.example.com")
	if _, err := store.SaveCertificate("shop.example.com", shopCert, shopKey); err != nil {
		t.Fatal(err)
	}
	if _, err := store.SaveCertificate("*.blog.example.com", wildCert, wildKey); err != nil {
		t.Fatal(err)
	}
	b := newBackend(t, "b")
	r := startRunConfig(t, Config{DataDir: dir, HTTPAddr: "127.0.0.1:0", HTTPSAddr: "127.0.0.1:0", ACME: ACMEConfig{DirectoryURL: "off"}})
	shop := newRoute("shop/prod", []string{"shop.example.com"}, b.upstream("b"))
	shop.Edge = jack.EdgeSettings{RedirectHTTPS: true, HSTS: jack.Duration(365 * 24 * time.Hour)}
	blog := newRoute("blog/prod", []string{"*.blog.example.com"}, b.upstream("b"))
	if err := r.client.SetRoutes(context.Background(), jack.RouteTable{Generation: 1, Routes: []jack.Route{shop, blog}}); err != nil {
		t.Fatal(err)
	}
	tlsAddr := r.status.ListenTLSAddr

	for sni, want := range map[string]string{"shop.example.com": "shop.example.com", "en.blog.example.com": "*.blog.example.com", "SHOP.example.com": "shop.example.com"} {
		cert, err := serverCert(tlsAddr, sni)
		if err != nil || cert.DNSNames[0] != want {
			t.Errorf("SNI %s: %v, %v; want the certificate for %s", sni, cert, err, want)
		}
	}
	if _, err := serverCert(tlsAddr, "unknown.example.org"); err == nil {
		t.Error("a name without a certificate got one")
	}

	client := httpsClient(ca.pool, tlsAddr)
	resp, err := client.Get("https://shop.example.com/cart")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.ProtoMajor != 2 || backendOf(t, string(body)) != "b" {
		t.Errorf("HTTPS: %d over %s, %q", resp.StatusCode, resp.Proto, body)
	}
	if got := resp.Header.Get("Strict-Transport-Security"); got != "max-age=31536000" {
		t.Errorf("HSTS %q", got)
	}
	var s seen
	jsonDecode(t, body, &s)
	if s.Header.Get("X-Forwarded-Proto") != "https" {
		t.Errorf("the app saw X-Forwarded-Proto %q", s.Header.Get("X-Forwarded-Proto"))
	}
	if resp, err := client.Get("https://www.blog.example.com/"); err != nil || resp.StatusCode != 200 || resp.Header.Get("Strict-Transport-Security") != "" {
		t.Errorf("blog over HTTPS: %v, %v", resp, err)
	}

	// Plain HTTP: the shop redirects, the blog serves.
	plain := httpsClient(nil, r.status.ListenAddr)
	plain.Transport.(*http.Transport).TLSClientConfig = nil
	resp, err = plain.Get("http://shop.example.com/cart?x=1")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	_, port, _ := net.SplitHostPort(tlsAddr)
	if resp.StatusCode != 301 || resp.Header.Get("Location") != "https://shop.example.com:"+port+"/cart?x=1" || resp.Header.Get("Strict-Transport-Security") != "" {
		t.Errorf("HTTP to the shop: %d %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	req, _ := http.NewRequest("POST", "http://shop.example.com/pay", nil)
	if resp, err := plain.Do(req); err != nil || resp.StatusCode != 308 {
		t.Errorf("POST over HTTP: %v, %v; want 308", resp, err)
	}
	if resp, err := plain.Get("http://www.blog.example.com/"); err != nil || resp.StatusCode != 200 {
		t.Errorf("HTTP to the blog: %v, %v", resp, err)
	}

	// A new certificate file is served from the next table.
	newCert, newKey := ca.issue(t, time.Now().Add(2*time.Hour), "shop.example.com")
	if _, err := store.SaveCertificate("shop.example.com", newCert, newKey); err != nil {
		t.Fatal(err)
	}
	if err := r.client.SetRoutes(context.Background(), jack.RouteTable{Generation: 2, Routes: []jack.Route{shop, blog}}); err != nil {
		t.Fatal(err)
	}
	if cert, err := serverCert(tlsAddr, "shop.example.com"); err != nil || !cert.NotAfter.After(time.Now().Add(90*time.Minute)) {
		t.Errorf("after replacing the file the router serves %v, %v", cert.NotAfter, err)
	}
}

func TestCertStoreRefusesBadCertificates(t *testing.T) {
	ca := newTestCA(t)
	store := NewCertStore(t.TempDir())
	good, goodKey := ca.issue(t, time.Now().Add(time.Hour), "shop.example.com")
	_, otherKey := ca.issue(t, time.Now().Add(time.Hour), "shop.example.com")
	expired, expiredKey := ca.issue(t, time.Now().Add(-time.Minute), "shop.example.com")
	wrongName, wrongKey := ca.issue(t, time.Now().Add(time.Hour), "other.example.com")
	for name, tc := range map[string]struct {
		domain    string
		cert, key []byte
		want      string
	}{
		"key of another": {"shop.example.com", good, otherKey, "the key does not match the certificate"},
		"not PEM":        {"shop.example.com", []byte("hello"), goodKey, "holds no PEM certificate"},
		"no key":         {"shop.example.com", good, []byte("nope"), "holds no PEM private key"},
		"expired":        {"shop.example.com", expired, expiredKey, "expired on"},
		"other name":     {"shop.example.com", wrongName, wrongKey, "the certificate is for other.example.com, not shop.example.com"},
		"bad domain":     {"shop_example", good, goodKey, "which a host name can't have"},
	} {
		_, err := store.SaveCertificate(tc.domain, tc.cert, tc.key)
		if jack.ErrorCode(err) != jack.EINVALID || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want EINVALID saying %q", name, err, tc.want)
		}
	}
	if entries, _ := os.ReadDir(filepath.Join(store.dataDir, certsDir)); len(entries) != 0 {
		t.Errorf("refused certificates left files: %v", entries)
	}
	cert, err := store.SaveCertificate("shop.example.com", good, goodKey)
	if err != nil || cert.Source != "file" {
		t.Fatalf("good pair: %+v, %v", cert, err)
	}
	if info, err := os.Stat(filepath.Join(store.dataDir, certsDir, "shop.example.com.key")); err != nil || info.Mode().Perm() != 0o600 {
		t.Errorf("key file: %v, %v; want mode 0600", info, err)
	}
	if got, err := store.Certificate("shop.example.com"); err != nil || got == nil || got.Source != "file" {
		t.Errorf("Certificate: %+v, %v", got, err)
	}
	if err := store.RemoveCertificate("shop.example.com"); err != nil {
		t.Fatal(err)
	}
	if got, err := store.Certificate("shop.example.com"); err != nil || got != nil {
		t.Errorf("after removal: %+v, %v", got, err)
	}
}

func TestRouterSkipsACertificateFileThatDoesNotLoadAndServesTheOthers(t *testing.T) {
	ca := newTestCA(t)
	dir := shortTempDir(t)
	os.MkdirAll(filepath.Join(dir, certsDir), 0o700)
	good, goodKey := ca.issue(t, time.Now().Add(time.Hour), "good.example.com")
	_, badKey := ca.issue(t, time.Now().Add(time.Hour), "bad.example.com")
	bad, _ := ca.issue(t, time.Now().Add(time.Hour), "bad.example.com")
	os.WriteFile(filepath.Join(dir, certsDir, "good.example.com.crt"), good, 0o600)
	os.WriteFile(filepath.Join(dir, certsDir, "good.example.com.key"), goodKey, 0o600)
	os.WriteFile(filepath.Join(dir, certsDir, "bad.example.com.crt"), bad, 0o600)
	os.WriteFile(filepath.Join(dir, certsDir, "bad.example.com.key"), badKey, 0o600) // not its key
	r := startRunConfig(t, Config{DataDir: dir, HTTPAddr: "127.0.0.1:0", HTTPSAddr: "127.0.0.1:0", ACME: ACMEConfig{DirectoryURL: "off"}})
	if _, err := serverCert(r.status.ListenTLSAddr, "good.example.com"); err != nil {
		t.Errorf("good: %v", err)
	}
	if _, err := serverCert(r.status.ListenTLSAddr, "bad.example.com"); err == nil {
		t.Error("a mismatched pair was served")
	}
}

func jsonDecode(t *testing.T, data []byte, v any) {
	t.Helper()
	if err := jsonUnmarshal(data, v); err != nil {
		t.Fatalf("decode %q: %v", data, err)
	}
}
