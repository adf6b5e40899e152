package drain

import (
	"bufio"
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	jack "github.com/jack-paas/jack"
)

var at = time.Date(2025, 3, 1, 12, 0, 0, 123456789, time.UTC)

func records(lines ...string) []*jack.LogRecord {
	var out []*jack.LogRecord
	for i, l := range lines {
		out = append(out, &jack.LogRecord{
			Time: at.Add(time.Duration(i) * time.Millisecond), App: "notes", Env: "production", Process: "web",
			Instance: "web.1", Container: "abcdef012345", Release: 3, Stream: jack.StreamStdout, Line: []byte(l),
		})
	}
	return out
}

func TestBadDrainURLsAreRefusedWithTheReason(t *testing.T) {
	for raw, want := range map[string]string{
		"ftp://logs.example.com":              "scheme \"ftp\" is not known",
		"http://logs.example.com/in":          "scheme \"http\" is not known",
		"syslog://":                           "has no host",
		"https:///path":                       "has no host",
		"logs.example.com:514":                "is not a URL",
		"syslog+tcp://logs.example.com:99999": "port",
		"syslog://user:pw@logs.example.com":   "has a user",
		"syslog+tls://logs.example.com/x?y=1": "path or query",
		"not a url at all":                    "is not a URL",
	} {
		_, err := Parse(raw)
		if jack.ErrorCode(err) != jack.EINVALID || !strings.Contains(err.Error(), want) {
			t.Errorf("Parse(%q) = %v; want EINVALID saying %q", raw, err, want)
		}
	}
	for _, ok := range []string{"syslog://logs.example.com", "SYSLOG+TLS://logs.example.com:6514", "https://u:p@logs.example.com/in?k=v"} {
		if _, err := Parse(ok); err != nil {
			t.Errorf("Parse(%q): %v", ok, err)
		}
	}
	if got := Redact("https://user:secret@logs.example.com/in"); strings.Contains(got, "secret") || !strings.Contains(got, "user") {
		t.Errorf("Redact hides nothing: %s", got)
	}
}

// message is a parsed RFC 5424 message.
type message struct {
	pri, version, timestamp, hostname, app, procid, msgid, sd, msg string
}

func parseSyslog(t *testing.T, b []byte) message {
	t.Helper()
	s := string(b)
	var m message
	if !strings.HasPrefix(s, "<") {
		t.Fatalf("message %q does not start with <PRI>", s)
	}
	end := strings.IndexByte(s, '>')
	m.pri, s = s[1:end], s[end+1:]
	f := strings.SplitN(s, " ", 7)
	if len(f) != 7 {
		t.Fatalf("message %q has too few fields", b)
	}
	m.version, m.timestamp, m.hostname, m.app, m.procid, m.msgid = f[0], f[1], f[2], f[3], f[4], f[5]
	rest := f[6]
	close := strings.Index(rest, "] ")
	if !strings.HasPrefix(rest, "[") || close < 0 {
		t.Fatalf("message %q has no structured data", b)
	}
	m.sd, m.msg = rest[:close+1], rest[close+2:]
	return m
}

func TestSyslogOverUDPIsRFC5424(t *testing.T) {
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	s, err := New("syslog://"+pc.LocalAddr().String(), Options{Hostname: "box"})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	recs := records("hello", "")
	recs[1].Stream = jack.StreamStderr
	if err := s.Send(context.Background(), recs); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 70000)
	pc.SetReadDeadline(time.Now().Add(5 * time.Second))
	n, _, err := pc.ReadFrom(buf)
	if err != nil {
		t.Fatal(err)
	}
	m := parseSyslog(t, buf[:n])
	want := message{pri: "14", version: "1", timestamp: "2025-03-01T12:00:00.123456Z", hostname: "box", app: "notes/production",
		procid: "web.1", msgid: "stdout",
		sd:  `[jack@32473 app="notes" env="production" process="web" instance="web.1" release="3" stream="stdout"]`,
		msg: "hello"}
	if m != want {
		t.Fatalf("got  %+v\nwant %+v", m, want)
	}
	n, _, _ = pc.ReadFrom(buf)
	if m := parseSyslog(t, buf[:n]); m.pri != "11" || m.msg != "" {
		t.Fatalf("stderr line: %+v; want severity err and an empty message", m)
	}
}

// readFrames reads n octet-counted messages from r.
func readFrames(t *testing.T, r *bufio.Reader, n int) [][]byte {
	t.Helper()
	var out [][]byte
	for range n {
		size, err := r.ReadString(' ')
		if err != nil {
			t.Fatalf("read frame length: %v", err)
		}
		l, err := strconv.Atoi(strings.TrimSuffix(size, " "))
		if err != nil {
			t.Fatalf("frame length %q: %v", size, err)
		}
		b := make([]byte, l)
		if _, err := io.ReadFull(r, b); err != nil {
			t.Fatal(err)
		}
		out = append(out, b)
	}
	return out
}

func TestSyslogOverTCPIsOctetCountedAndReconnects(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	conns := make(chan net.Conn, 2)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			conns <- c
		}
	}()
	s, _ := New("syslog+tcp://"+ln.Addr().String(), Options{})
	defer s.Close()
	long := strings.Repeat("x", 1<<20)
	if err := s.Send(context.Background(), records("one\r", long, "three \xff")); err != nil {
		t.Fatal(err)
	}
	c := <-conns
	frames := readFrames(t, bufio.NewReader(c), 3)
	for i, want := range []string{"one\r", long, "three \xff"} {
		if got := parseSyslog(t, frames[i]).msg; got != want {
			t.Fatalf("message %d: %d bytes %.20q, want %d bytes", i, len(got), got, len(want))
		}
	}
	// The server goes away; the next batch goes over a new connection.
	c.Close()
	time.Sleep(50 * time.Millisecond)
	if err := s.Send(context.Background(), records("after")); err != nil {
		t.Fatal(err)
	}
	select {
	case c2 := <-conns:
		c2.SetReadDeadline(time.Now().Add(5 * time.Second))
		if got := parseSyslog(t, readFrames(t, bufio.NewReader(c2), 1)[0]).msg; got != "after" {
			t.Fatalf("after reconnecting: %q", got)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no new connection after the server closed the first")
	}
}

// selfSigned returns a TLS certificate for 127.0.0.1 and a pool that
// trusts it.
func selfSigned(t *testing.T) (tls.Certificate, *x509.CertPool) {
	t.Helper()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "drain test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, pool
}

func TestSyslogOverTLSVerifiesTheCertificate(t *testing.T) {
	cert, pool := selfSigned(t)
	ln, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{Certificates: []tls.Certificate{cert}})
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	got := make(chan string, 1)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				r := bufio.NewReader(c)
				size, err := r.ReadString(' ')
				if err != nil {
					return // the untrusting client's handshake failed
				}
				n, _ := strconv.Atoi(strings.TrimSpace(size))
				b := make([]byte, n)
				io.ReadFull(r, b)
				got <- string(b)
			}()
		}
	}()
	raw := "syslog+tls://" + ln.Addr().String()

	err = Check(context.Background(), raw, Options{})
	if jack.ErrorCode(err) != jack.EINVALID || !strings.Contains(err.Error(), "does not verify") {
		t.Fatalf("Check of a self-signed drain: %v; want EINVALID saying the certificate does not verify", err)
	}
	untrusting, _ := New(raw, Options{})
	if err := untrusting.Send(context.Background(), records("secret")); err == nil {
		t.Fatal("sent over TLS to a server whose certificate does not verify")
	}
	if err := Check(context.Background(), raw, Options{RootCAs: pool}); err != nil {
		t.Fatalf("Check with the CA trusted: %v", err)
	}
	s, _ := New(raw, Options{RootCAs: pool})
	defer s.Close()
	if err := s.Send(context.Background(), records("over tls")); err != nil {
		t.Fatal(err)
	}
	select {
	case m := <-got:
		if parseSyslog(t, []byte(m)).msg != "over tls" {
			t.Fatalf("received %q", m)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("nothing received over TLS")
	}
}

func TestHTTPSPostsBatchesOfNDJSON(t *testing.T) {
	type post struct {
		user, pass, contentType string
		records                 []jack.LogRecord
	}
	posts := make(chan post, 10)
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var p post
		p.user, p.pass, _ = r.BasicAuth()
		p.contentType = r.Header.Get("Content-Type")
		sc := bufio.NewScanner(r.Body)
		sc.Buffer(nil, 4<<20)
		for sc.Scan() {
			var rec jack.LogRecord
			if err := json.Unmarshal(sc.Bytes(), &rec); err != nil {
				http.Error(w, err.Error(), 400)
				return
			}
			p.records = append(p.records, rec)
		}
		posts <- p
	}))
	defer srv.Close()
	pool := x509.NewCertPool()
	pool.AddCert(srv.Certificate())
	raw := strings.Replace(srv.URL, "https://", "https://drain:s3cret@", 1) + "/logs"

	if err := Check(context.Background(), raw, Options{}); jack.ErrorCode(err) != jack.EINVALID {
		t.Fatalf("Check of an untrusted HTTPS drain: %v; want EINVALID", err)
	}
	s, _ := New(raw, Options{RootCAs: pool})
	defer s.Close()
	if err := s.Send(context.Background(), records("a", "b \xff", "c")); err != nil {
		t.Fatal(err)
	}
	p := <-posts
	if p.user != "drain" || p.pass != "s3cret" || p.contentType != "application/x-ndjson" || len(p.records) != 3 {
		t.Fatalf("post %+v", p)
	}
	if r := p.records[1]; string(r.Line) != "b \xff" || r.Instance != "web.1" || !r.Time.Equal(at.Add(time.Millisecond)) {
		t.Fatalf("second record %+v", r)
	}

	// A failing answer fails the batch, and the message says which drain
	// without its password.
	srv.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { http.Error(w, "busy", 503) })
	err := s.Send(context.Background(), records("d"))
	if err == nil || !strings.Contains(err.Error(), "503") || strings.Contains(err.Error(), "s3cret") {
		t.Fatalf("send to a failing drain: %v", err)
	}
}

func TestEachFieldFitsRFC5424(t *testing.T) {
	r := records("m")[0]
	r.App, r.Env = strings.Repeat("a", 40), strings.Repeat("e", 40)
	r.Instance = `we"ird]\`
	m := parseSyslog(t, appendSyslog(nil, r, "host with spaces"))
	if len(m.app) != 48 || m.hostname != "host_with_spaces" {
		t.Fatalf("app %q (%d), host %q", m.app, len(m.app), m.hostname)
	}
	if !bytes.Contains([]byte(m.sd), []byte(`instance="we\"ird\]\\"`)) {
		t.Fatalf("structured data %s does not escape", m.sd)
	}
	_ = fmt.Sprint()
}

func TestASyslogMessageCostsNoAllocationAndKeepsItsStamp(t *testing.T) {
	r := records("a line")[0]
	r.Process, r.Instance = "web", "web.1"
	buf := make([]byte, 0, 1024)
	if n := testing.AllocsPerRun(100, func() { buf = appendSyslog(buf[:0], r, "host") }); n != 0 {
		t.Errorf("formatting a message allocates %.0f times", n)
	}
	if m := parseSyslog(t, buf); m.procid != "web.1" {
		t.Errorf("PROCID %q, want web.1", m.procid)
	}
	r.Instance = "release"
	if m := parseSyslog(t, appendSyslog(nil, r, "host")); m.procid != r.Source() {
		t.Errorf("PROCID %q, want %q", m.procid, r.Source())
	}
	base := time.Date(2026, 12, 31, 23, 59, 59, 999_999_999, time.FixedZone("CET", 3600))
	for _, at := range []time.Time{base, base.Add(time.Nanosecond), base.Add(1234 * time.Microsecond), time.Unix(0, 0), base.Add(-time.Second)} {
		if got, want := string(appendStamp(nil, at)), at.UTC().Format("2006-01-02T15:04:05.000000Z07:00"); got != want {
			t.Errorf("stamp of %v is %s, want %s", at, got, want)
		}
	}
}
