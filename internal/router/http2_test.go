package router

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/xml"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"

	"github.com/jack-paas/jack"
)

// h2specKnownFailures are the h2spec cases the HTTPS listener fails, by
// h2spec's case ID (section/number: `go tool h2spec http2/6.5.3/1` runs
// one), with why. Each is Go's HTTP/2 server (net/http's copy of
// golang.org/x/net/http2) deciding before Jack's handler runs, on purpose;
// golang.org/x/net v0.63.0, the newest, decides the same. The test fails
// on any other failure, and when one of these passes, so that the list
// stays true.
var h2specKnownFailures = map[string]string{
	"http2/6.5.3/1": "Go's server closes the connection (PROTOCOL_ERROR) on a SETTINGS frame that " +
		"repeats a setting, which its source calls suspicious; RFC 9113 says to apply them in order",
	"http2/8.1.2.2/1": "Go's server answers a request carrying a connection-specific header " +
		"(Connection, Keep-Alive, ...) with 400 instead of resetting the stream; RFC 9113 8.1.1 allows " +
		"a response to a malformed request, and the request never reaches the app",
	"http2/8.1.2.2/2": `the same for a TE header other than "trailers"`,
}

// h2specCases is how many cases h2spec v2.2.1 runs without --strict: a
// different count is another h2spec, whose IDs may name other cases.
const h2specCases = 145

func TestTheTLSListenerPassesH2spec(t *testing.T) {
	tlsAddr, b := startLocalhostHTTPS(t)

	cases := runH2spec(t, tlsAddr)
	if len(cases) != h2specCases {
		t.Fatalf("h2spec ran %d cases, want %d: a new h2spec? check h2specKnownFailures against it", len(cases), h2specCases)
	}
	passed := 0
	for _, c := range cases {
		reason, known := h2specKnownFailures[c.id]
		switch {
		case c.passed() && known:
			t.Errorf("%s %q passes now; take it off h2specKnownFailures (%s)", c.id, c.desc, reason)
		case !c.passed() && !known:
			t.Errorf("%s %q %s; h2spec's expectations, then what it got:\n%s", c.id, c.desc, c.outcome, c.detail)
		}
		if c.passed() {
			passed++
		}
	}
	t.Logf("h2spec: %d of %d cases pass", passed, len(cases))
	if b.requests.Load() == 0 {
		t.Error("no request of h2spec reached the app: the cases ran against the router's error pages")
	}
}

func TestHTTPSReadsHTTP2FramesOf16KiBAtMost(t *testing.T) {
	tlsAddr, _ := startLocalhostHTTPS(t)
	conn, err := tls.Dial("tcp", tlsAddr, &tls.Config{ServerName: "localhost", InsecureSkipVerify: true, NextProtos: []string{"h2"}})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(10 * time.Second))
	io.WriteString(conn, http2.ClientPreface)
	fr := http2.NewFramer(conn, conn)
	fr.WriteSettings()

	settings := nextFrame[*http2.SettingsFrame](t, fr, 0)
	if size, _ := settings.Value(http2.SettingMaxFrameSize); size != 16<<10 {
		t.Errorf("the router allows HTTP/2 frames of %d bytes, want 16384", size)
	}

	// A body in one DATA frame of 16 KiB is read.
	fr.WriteHeaders(http2.HeadersFrameParam{StreamID: 1, BlockFragment: requestBlock("POST", ""), EndHeaders: true})
	fr.WriteData(1, true, make([]byte, 16<<10))
	answer, err := hpack.NewDecoder(4096, nil).DecodeFull(nextFrame[*http2.HeadersFrame](t, fr, 1).HeaderBlockFragment())
	if err != nil || len(answer) == 0 || answer[0] != (hpack.HeaderField{Name: ":status", Value: "200"}) {
		t.Errorf("the request with a 16 KiB frame was answered %v, %v; want 200", answer, err)
	}

	// A header block in one frame past 16 KiB ends the connection.
	block := requestBlock("GET", strings.Repeat("x", 20<<10)) // Huffman takes it to about 17.5 KiB
	if len(block) <= 16<<10 {
		t.Fatalf("the header block is %d bytes, not past 16 KiB", len(block))
	}
	fr.WriteHeaders(http2.HeadersFrameParam{StreamID: 3, BlockFragment: block, EndStream: true, EndHeaders: true})
	if goAway := nextFrame[*http2.GoAwayFrame](t, fr, 0); goAway.ErrCode != http2.ErrCodeFrameSize {
		t.Errorf("a frame past 16 KiB ended the connection with %v, want FRAME_SIZE_ERROR", goAway.ErrCode)
	}
}

// requestBlock is the HPACK header block of a request for localhost, with
// a padding header when pad is not empty.
func requestBlock(method, pad string) []byte {
	var buf bytes.Buffer
	enc := hpack.NewEncoder(&buf)
	fields := []hpack.HeaderField{{Name: ":method", Value: method}, {Name: ":scheme", Value: "https"},
		{Name: ":path", Value: "/"}, {Name: ":authority", Value: "localhost"}}
	if pad != "" {
		fields = append(fields, hpack.HeaderField{Name: "x-pad", Value: pad, Sensitive: true})
	}
	for _, f := range fields {
		enc.WriteField(f)
	}
	return buf.Bytes()
}

// nextFrame reads frames until one of type F on stream, skipping others.
func nextFrame[F http2.Frame](t *testing.T, fr *http2.Framer, stream uint32) F {
	t.Helper()
	for {
		f, err := fr.ReadFrame()
		if err != nil {
			var zero F
			t.Fatalf("waiting for a %T on stream %d: %v", zero, stream, err)
		}
		if want, ok := f.(F); ok && f.Header().StreamID == stream {
			return want
		}
	}
}

// startLocalhostHTTPS runs a router serving HTTPS on a loopback port with
// a certificate for localhost, sending localhost's requests to a backend;
// it returns the HTTPS address and the backend.
func startLocalhostHTTPS(t *testing.T) (string, *backend) {
	t.Helper()
	dir := shortTempDir(t)
	ca := newTestCA(t)
	certPEM, keyPEM := ca.issue(t, time.Now().Add(time.Hour), "localhost")
	if _, err := NewCertStore(dir).SaveCertificate("localhost", certPEM, keyPEM); err != nil {
		t.Fatal(err)
	}
	b := newBackend(t, "app")
	r := startRunConfig(t, Config{DataDir: dir, HTTPAddr: "127.0.0.1:0", HTTPSAddr: "127.0.0.1:0", ACME: ACMEConfig{DirectoryURL: "off"}})
	table := jack.RouteTable{Generation: 1, Routes: []jack.Route{newRoute("h2/prod", []string{"localhost"}, b.upstream("app"))}}
	if err := r.client.SetRoutes(context.Background(), table); err != nil {
		t.Fatal(err)
	}
	return r.status.ListenTLSAddr, b
}

// h2specCase is the outcome of one h2spec case.
type h2specCase struct {
	id, desc string
	outcome  string // "passed", "failed" or "skipped"
	detail   string // what h2spec expected and got, for a failure
}

func (c h2specCase) passed() bool { return c.outcome == "passed" }

// runH2spec runs h2spec, a tool dependency of the module, against the
// HTTPS listener at addr and returns its cases.
func runH2spec(t *testing.T, addr string) []h2specCase {
	t.Helper()
	_, port, _ := net.SplitHostPort(addr)
	report := filepath.Join(t.TempDir(), "h2spec.xml")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute) // the first run builds h2spec
	defer cancel()
	// localhost, not 127.0.0.1: h2spec sends its host as SNI only when it
	// is a name, and the router picks its certificate by SNI. A case waits
	// up to 5 s (-o) for a frame or the end of the connection (Go's server
	// closes 1 s after a GOAWAY): h2spec's 2 s would be tight on a busy
	// machine.
	cmd := exec.CommandContext(ctx, "go", "tool", "h2spec", "--tls", "--insecure", "--host", "localhost", "--port", port,
		"--timeout", "5", "--junit-report", report)
	out, runErr := cmd.CombinedOutput() // h2spec exits 1 when a case fails
	data, err := os.ReadFile(report)
	if err != nil {
		t.Fatalf("h2spec wrote no report (%v): %v\n%s", err, runErr, out)
	}
	cases, err := parseH2specReport(data)
	if err != nil {
		t.Fatalf("read h2spec's report: %v", err)
	}
	return cases
}

// parseH2specReport reads h2spec's JUnit report: a test suite per
// section, its cases in order, numbered from 1. h2spec v2.2.1 reports a
// failed case as an <error>.
func parseH2specReport(data []byte) ([]h2specCase, error) {
	var report struct {
		Suites []struct {
			Package string `xml:"package,attr"`
			Cases   []struct {
				Desc    string  `xml:"classname,attr"`
				Failure *string `xml:"failure"`
				Error   *string `xml:"error"`
				Skipped *string `xml:"skipped"`
			} `xml:"testcase"`
		} `xml:"testsuite"`
	}
	if err := xml.Unmarshal(data, &report); err != nil {
		return nil, err
	}
	var cases []h2specCase
	for _, s := range report.Suites {
		for i, tc := range s.Cases {
			c := h2specCase{id: s.Package + "/" + strconv.Itoa(i+1), desc: tc.Desc, outcome: "passed"}
			switch {
			case tc.Failure != nil || tc.Error != nil:
				c.outcome = "failed"
				c.detail = strings.TrimSpace(deref(tc.Failure) + deref(tc.Error))
			case tc.Skipped != nil:
				c.outcome = "skipped"
			}
			cases = append(cases, c)
		}
	}
	return cases, nil
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
