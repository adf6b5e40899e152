package router

import (
	"context"
	"encoding/pem"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jack-paas/jack"
	"github.com/letsencrypt/challtestsrv"
	"github.com/letsencrypt/pebble/v2/ca"
	"github.com/letsencrypt/pebble/v2/db"
	"github.com/letsencrypt/pebble/v2/va"
	"github.com/letsencrypt/pebble/v2/wfe"
)

// pebble is Let's Encrypt's test ACME server, run in this process: its
// validation authority resolves every name to 127.0.0.1 through a DNS
// server of its own and checks challenges on the given ports.
type pebble struct {
	directory string // the ACME directory URL
	caFile    string // PEM of the root its HTTPS certificate chains to
}

func startPebble(t *testing.T, httpPort, tlsPort int, validity time.Duration) *pebble {
	t.Helper()
	// A busy machine can fail a validation; try again soon, not in a minute.
	first := acmeFirstRetry
	acmeFirstRetry = time.Second
	t.Cleanup(func() { acmeFirstRetry = first })
	t.Setenv("PEBBLE_VA_NOSLEEP", "1")
	t.Setenv("PEBBLE_WFE_NONCEREJECT", "0")
	logger := log.New(io.Discard, "", 0)
	if testing.Verbose() {
		logger = log.New(os.Stderr, "pebble ", log.LstdFlags)
	}
	dnsAddr := freeUDPAddr(t)
	dns, err := challtestsrv.New(challtestsrv.Config{DNSAddrs: []string{dnsAddr}, Log: logger})
	if err != nil {
		t.Fatal(err)
	}
	dns.SetDefaultDNSIPv6("") // the router listens on 127.0.0.1 only
	dns.Run()
	t.Cleanup(dns.Shutdown)

	store := db.NewMemoryStore()
	profiles := map[string]ca.Profile{"default": {Description: "test", ValidityPeriod: uint64(validity.Seconds())}}
	authority := ca.New(logger, store, "", "ecdsa", 0, 1, profiles)
	validator := va.New(logger, httpPort, tlsPort, false, dnsAddr, store)
	front := wfe.New(logger, store, validator, authority, []string{"pebble.letsencrypt.org"}, false, false, 1, 1)
	srv := httptest.NewTLSServer(front.Handler())
	t.Cleanup(srv.Close)
	caFile := filepath.Join(t.TempDir(), "pebble-https.pem")
	os.WriteFile(caFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw}), 0o600)
	return &pebble{directory: srv.URL + wfe.DirectoryPath, caFile: caFile}
}

func freeUDPAddr(t *testing.T) string {
	c, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	return c.LocalAddr().String()
}

func portOf(t *testing.T, addr string) int {
	_, p, err := net.SplitHostPort(addr)
	if err != nil {
		t.Fatal(err)
	}
	n, _ := strconv.Atoi(p)
	return n
}

func TestACMEIssuesCertificatesOverEachChallenge(t *testing.T) {
	for _, challenge := range []string{"http-01", "tls-alpn-01"} {
		t.Run(challenge, func(t *testing.T) {
			dir := shortTempDir(t)
			httpAddr, httpsAddr := deadAddr(t), deadAddr(t)
			// The validator finds the router only on the challenge's port:
			// the other points at nothing, so that challenge fails.
			httpPort, tlsPort := portOf(t, httpAddr), portOf(t, deadAddr(t))
			if challenge == "tls-alpn-01" {
				httpPort, tlsPort = portOf(t, deadAddr(t)), portOf(t, httpsAddr)
			}
			pb := startPebble(t, httpPort, tlsPort, 24*time.Hour)
			b := newBackend(t, "b")
			r := startRunConfig(t, Config{DataDir: dir, HTTPAddr: httpAddr, HTTPSAddr: httpsAddr,
				ACME: ACMEConfig{DirectoryURL: pb.directory, CACertFile: pb.caFile, Email: "ops@example.com"}, Logger: testLogger(t)})
			table := jack.RouteTable{Generation: 1, Routes: []jack.Route{
				newRoute("shop/prod", []string{"shop.example.com", "production.shop.localhost"}, b.upstream("b")),
			}}
			if err := r.client.SetRoutes(context.Background(), table); err != nil {
				t.Fatal(err)
			}
			cert := waitForACMECert(t, httpsAddr, "shop.example.com")
			if !strings.Contains(cert.Issuer.CommonName, "Pebble") || cert.DNSNames[0] != "shop.example.com" {
				t.Errorf("certificate %v issued by %q; want Pebble's for shop.example.com", cert.DNSNames, cert.Issuer.CommonName)
			}
			// autocert hands the certificate to handshakes before it writes
			// it to the data folder, a moment later.
			waitFor(t, "the ACME certificate in the data folder", func() bool {
				got, err := NewCertStore(dir).Certificate("shop.example.com")
				return err == nil && got != nil && got.Source == "acme"
			})
			if _, err := serverCert(httpsAddr, "production.shop.localhost"); err == nil {
				t.Error("a .localhost name got a certificate; no CA could validate it")
			}
			// The certificate serves HTTPS requests to the app.
			client := httpsClient(nil, httpsAddr)
			client.Transport.(*http.Transport).TLSClientConfig.InsecureSkipVerify = true
			resp, err := client.Get("https://shop.example.com/")
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 200 || backendOf(t, string(body)) != "b" {
				t.Errorf("HTTPS request: %d %q", resp.StatusCode, body)
			}

			// A new router (a restart, an upgrade) serves the kept
			// certificate without asking the CA again.
			r.stop()
			startRunConfig(t, Config{DataDir: dir, HTTPAddr: httpAddr, HTTPSAddr: httpsAddr,
				ACME: ACMEConfig{DirectoryURL: "https://127.0.0.1:1/unreachable", CACertFile: pb.caFile}, Logger: testLogger(t)})
			kept, err := serverCert(httpsAddr, "shop.example.com")
			if err != nil || kept.SerialNumber.Cmp(cert.SerialNumber) != 0 {
				t.Errorf("after a restart: %v, %v; want the same certificate from the data folder", kept, err)
			}
		})
	}
}

func TestACMERenewsCertificatesBeforeTheyExpire(t *testing.T) {
	dir := shortTempDir(t)
	httpAddr, httpsAddr := deadAddr(t), deadAddr(t)
	pb := startPebble(t, portOf(t, httpAddr), portOf(t, httpsAddr), 20*time.Second)
	b := newBackend(t, "b")
	r := startRunConfig(t, Config{DataDir: dir, HTTPAddr: httpAddr, HTTPSAddr: httpsAddr,
		ACME: ACMEConfig{DirectoryURL: pb.directory, CACertFile: pb.caFile}, Logger: testLogger(t)})
	table := jack.RouteTable{Generation: 1, Routes: []jack.Route{newRoute("shop/prod", []string{"shop.example.com"}, b.upstream("b"))}}
	if err := r.client.SetRoutes(context.Background(), table); err != nil {
		t.Fatal(err)
	}
	first := waitForACMECert(t, httpsAddr, "shop.example.com")
	// Twenty seconds of life: renewed in the last third, before it expires.
	deadline := time.Now().Add(60 * time.Second)
	for {
		cert, err := serverCert(httpsAddr, "shop.example.com")
		if err == nil && cert.SerialNumber.Cmp(first.SerialNumber) != 0 {
			if !cert.NotAfter.After(first.NotAfter) {
				t.Errorf("the renewed certificate ends %v, not after the first's %v", cert.NotAfter, first.NotAfter)
			}
			if time.Now().After(first.NotAfter) {
				t.Errorf("renewed only after the first certificate expired")
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the certificate was not renewed (still serial %v, ends %v)", first.SerialNumber, first.NotAfter)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// waitForACMECert polls until the router presents a certificate for host.
func waitForACMECert(t *testing.T, addr, host string) *x509Cert {
	t.Helper()
	deadline := time.Now().Add(2 * time.Minute) // a loaded machine slows the CA's validations
	for {
		cert, err := serverCert(addr, host)
		if err == nil {
			return cert
		}
		if time.Now().After(deadline) {
			t.Fatalf("no certificate for %s within two minutes: %v", host, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
