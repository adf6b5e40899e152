package router

import (
	"bytes"
	"context"
	"crypto/tls"
	"io"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"

	"github.com/jack-paas/jack"
)

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
