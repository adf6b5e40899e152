// Package drain delivers log records to the endpoints users forward their
// logs to: syslog servers (RFC 5424 over UDP, TCP or TLS, with octet
// counting on streams) and HTTPS endpoints (NDJSON batches). A Sender
// delivers one batch at a time and says whether it got there; queueing and
// retries are the caller's (internal/logs).
package drain

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
	"time"

	jack "github.com/jack-paas/jack"
)

// Schemes of drain URLs, with their default ports.
var defaultPorts = map[string]string{
	"syslog":     "514",
	"syslog+tcp": "514",
	"syslog+tls": "6514",
	"https":      "443",
}

const schemesHint = "use syslog://HOST[:PORT] (UDP), syslog+tcp://, syslog+tls:// or https://HOST/PATH"

// Sender delivers batches of records to one endpoint.
type Sender interface {
	// Send delivers the records in order. An error means some may not
	// have arrived; the caller sends the batch again.
	Send(ctx context.Context, recs []*jack.LogRecord) error
	// Close ends the connection, if any.
	Close() error
}

// Options are what every sender shares.
type Options struct {
	// RootCAs verify TLS certificates; nil for the system's.
	RootCAs *x509.CertPool
	// Timeout bounds a connection, a write and a request; default 10s.
	Timeout time.Duration
	// Hostname is the HOSTNAME of syslog messages; default this machine's.
	Hostname string
}

func (o Options) timeout() time.Duration {
	if o.Timeout <= 0 {
		return 10 * time.Second
	}
	return o.Timeout
}

// Parse checks a drain URL and returns it parsed. EINVALID says what is
// wrong with it.
func Parse(raw string) (*url.URL, error) {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil || u.Scheme == "" || u.Opaque != "" {
		return nil, jack.Errorf(jack.EINVALID, "drain %q is not a URL; %s", raw, schemesHint)
	}
	scheme := strings.ToLower(u.Scheme)
	if _, ok := defaultPorts[scheme]; !ok {
		return nil, jack.Errorf(jack.EINVALID, "drain URL scheme %q is not known; %s", u.Scheme, schemesHint)
	}
	u.Scheme = scheme
	if u.Hostname() == "" {
		return nil, jack.Errorf(jack.EINVALID, "drain URL %q has no host; %s", raw, schemesHint)
	}
	if p := u.Port(); p != "" {
		if n, err := strconv.Atoi(p); err != nil || n < 1 || n > 65535 {
			return nil, jack.Errorf(jack.EINVALID, "drain URL %q has port %q; give one from 1 to 65535", raw, p)
		}
	}
	if scheme != "https" {
		if u.User != nil {
			return nil, jack.Errorf(jack.EINVALID, "syslog drain URL %q has a user; syslog has no login, drop it", Redact(raw))
		}
		if (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" {
			return nil, jack.Errorf(jack.EINVALID, "syslog drain URL %q has a path or query; give only the host and port", raw)
		}
	}
	return u, nil
}

// Redact returns the URL with its password, if any, hidden, for listings
// and events.
func Redact(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.User == nil {
		return raw
	}
	if _, has := u.User.Password(); has {
		u.User = url.UserPassword(u.User.Username(), "xxxxx")
	}
	return u.String()
}

// hostPort returns the URL's host and port, the scheme's default port
// when it has none.
func hostPort(u *url.URL) string {
	port := u.Port()
	if port == "" {
		port = defaultPorts[u.Scheme]
	}
	return net.JoinHostPort(u.Hostname(), port)
}

// New returns the sender of a drain URL (checked with Parse).
func New(raw string, opts Options) (Sender, error) {
	u, err := Parse(raw)
	if err != nil {
		return nil, err
	}
	if opts.Hostname == "" {
		opts.Hostname = localHostname()
	}
	switch u.Scheme {
	case "syslog":
		return &udpSender{addr: hostPort(u), opts: opts}, nil
	case "syslog+tcp", "syslog+tls":
		return &streamSender{addr: hostPort(u), tls: u.Scheme == "syslog+tls", host: u.Hostname(), opts: opts}, nil
	default:
		return newHTTPSSender(u, opts), nil
	}
}

// Check tries a drain's endpoint once, as it is added: for TLS endpoints,
// that the certificate verifies (EINVALID if not). An endpoint that does
// not answer yet is fine: records wait in the drain's queue.
func Check(ctx context.Context, raw string, opts Options) error {
	u, err := Parse(raw)
	if err != nil {
		return err
	}
	if u.Scheme != "https" && u.Scheme != "syslog+tls" {
		return nil
	}
	addr := hostPort(u)
	dialer := &tls.Dialer{NetDialer: &net.Dialer{Timeout: opts.timeout()}, Config: tlsConfig(u.Hostname(), opts)}
	conn, err := dialer.DialContext(ctx, "tcp", addr)
	if err == nil {
		conn.Close()
		return nil
	}
	if isCertError(err) {
		return jack.Errorf(jack.EINVALID, "the TLS certificate of drain %s does not verify (%v); use a certificate a trusted CA signed for %s",
			addr, unwrapOp(err), u.Hostname())
	}
	return nil
}

// tlsConfig returns the TLS settings of a connection to host.
func tlsConfig(host string, opts Options) *tls.Config {
	return &tls.Config{ServerName: host, RootCAs: opts.RootCAs, MinVersion: tls.VersionTLS12}
}

// isCertError reports whether err is a failed verification of a TLS
// certificate.
func isCertError(err error) bool {
	var (
		verify   *tls.CertificateVerificationError
		unknown  x509.UnknownAuthorityError
		hostname x509.HostnameError
		invalid  x509.CertificateInvalidError
	)
	return errors.As(err, &verify) || errors.As(err, &unknown) || errors.As(err, &hostname) || errors.As(err, &invalid)
}

// unwrapOp drops the "dial tcp ADDR:" prefix of a network error.
func unwrapOp(err error) error {
	var op *net.OpError
	if errors.As(err, &op) && op.Err != nil {
		return op.Err
	}
	return err
}

// errorf wraps a delivery failure with the endpoint.
func errorf(addr string, err error) error {
	return fmt.Errorf("drain %s: %w", addr, unwrapOp(err))
}
