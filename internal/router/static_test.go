package router

import (
	"bytes"
	"compress/gzip"
	"io"
	"mime/multipart"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jack-paas/jack"
)

// staticFixture is a version's static folder served by a test proxy at
// /static/, with a file outside it that no request may reach.
type staticFixture struct {
	proxy *Proxy
	base  string
	dir   string
	mod   time.Time
}

func newStaticFixture(t *testing.T, files map[string]string) *staticFixture {
	t.Helper()
	root := t.TempDir()
	dir := filepath.Join(root, "7", "0")
	mod := time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)
	for name, body := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		os.Chtimes(p, mod, mod)
	}
	os.WriteFile(filepath.Join(root, "secret.txt"), []byte("SECRET"), 0o600)
	os.WriteFile(filepath.Join(root, "7", "secret.txt"), []byte("SECRET"), 0o600)
	p, srv := newTestProxy(t)
	setRoutes(t, p, 1, jack.Route{Env: "shop/prod", Hosts: []string{"shop.test"},
		Static: []jack.StaticMount{{URL: "/static/", Dir: dir}}})
	return &staticFixture{proxy: p, base: srv.URL, dir: dir, mod: mod}
}

// do sends a request for path (written to the wire as is) with headers.
func (s *staticFixture) do(t *testing.T, method, path string, header ...string) (*http.Response, string) {
	t.Helper()
	conn, err := net.Dial("tcp", strings.TrimPrefix(s.base, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	req := method + " " + path + " HTTP/1.1\r\nHost: shop.test\r\nConnection: close\r\n"
	for i := 0; i+1 < len(header); i += 2 {
		req += header[i] + ": " + header[i+1] + "\r\n"
	}
	io.WriteString(conn, req+"\r\n")
	resp, err := http.ReadResponse(bufioReader(conn), &http.Request{Method: method})
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	return resp, string(body)
}

func TestStaticServesFilesWithValidatorsAndTypes(t *testing.T) {
	s := newStaticFixture(t, map[string]string{
		"css/app.3f9a2c1e.css": "body{color:red}",
		"js/index-BWh8ZmAq.js": "console.log(1)",
		"robots.txt":           "User-agent: *",
		"logo.svg":             "<svg/>",
		"font.woff2":           "wOF2",
		"data":                 "%PDF-1.4 not really",
	})
	resp, body := s.do(t, "GET", "/static/css/app.3f9a2c1e.css")
	if resp.StatusCode != 200 || body != "body{color:red}" {
		t.Fatalf("GET: %d %q", resp.StatusCode, body)
	}
	etag := resp.Header.Get("Etag")
	for k, want := range map[string]string{
		"Content-Type":   "text/css; charset=utf-8",
		"Cache-Control":  "public, max-age=31536000, immutable",
		"Last-Modified":  s.mod.Format(http.TimeFormat),
		"Accept-Ranges":  "bytes",
		"Content-Length": "15",
	} {
		if got := resp.Header.Get(k); got != want {
			t.Errorf("%s: %q, want %q", k, got, want)
		}
	}
	if len(etag) < 10 || !strings.HasPrefix(etag, `"`) {
		t.Errorf("ETag %q, want a strong one", etag)
	}
	if resp.Header.Get("X-Request-Id") != "" {
		t.Errorf("static response carries an upstream's request id")
	}
	for path, want := range map[string][2]string{
		"/static/js/index-BWh8ZmAq.js": {"text/javascript; charset=utf-8", "public, max-age=31536000, immutable"},
		"/static/robots.txt":           {"text/plain; charset=utf-8", "public, max-age=60"},
		"/static/logo.svg":             {"image/svg+xml", "public, max-age=60"},
		"/static/font.woff2":           {"font/woff2", "public, max-age=60"},
		"/static/data":                 {"application/pdf", "public, max-age=60"},
	} {
		resp, _ := s.do(t, "GET", path)
		if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != want[0] || resp.Header.Get("Cache-Control") != want[1] {
			t.Errorf("%s: %d, type %q, cache %q; want %q, %q", path, resp.StatusCode, resp.Header.Get("Content-Type"), resp.Header.Get("Cache-Control"), want[0], want[1])
		}
	}

	// Conditional requests.
	if resp, body := s.do(t, "GET", "/static/css/app.3f9a2c1e.css", "If-None-Match", etag); resp.StatusCode != 304 || body != "" {
		t.Errorf("If-None-Match: %d %q, want 304", resp.StatusCode, body)
	}
	if resp, _ := s.do(t, "GET", "/static/css/app.3f9a2c1e.css", "If-None-Match", `"other"`); resp.StatusCode != 200 {
		t.Errorf("If-None-Match other: %d, want 200", resp.StatusCode)
	}
	if resp, _ := s.do(t, "GET", "/static/css/app.3f9a2c1e.css", "If-Modified-Since", s.mod.Add(time.Hour).Format(http.TimeFormat)); resp.StatusCode != 304 {
		t.Errorf("If-Modified-Since later: %d, want 304", resp.StatusCode)
	}
	if resp, _ := s.do(t, "GET", "/static/css/app.3f9a2c1e.css", "If-Modified-Since", s.mod.Add(-time.Hour).Format(http.TimeFormat)); resp.StatusCode != 200 {
		t.Errorf("If-Modified-Since earlier: %d, want 200", resp.StatusCode)
	}
	if resp, body := s.do(t, "HEAD", "/static/robots.txt"); resp.StatusCode != 200 || body != "" || resp.Header.Get("Content-Length") != "13" {
		t.Errorf("HEAD: %d %q length %q", resp.StatusCode, body, resp.Header.Get("Content-Length"))
	}
	if resp, _ := s.do(t, "POST", "/static/robots.txt", "Content-Length", "0"); resp.StatusCode != 405 || resp.Header.Get("Allow") != "GET, HEAD" {
		t.Errorf("POST: %d, Allow %q; want 405", resp.StatusCode, resp.Header.Get("Allow"))
	}
}

func TestStaticRangeRequests(t *testing.T) {
	s := newStaticFixture(t, map[string]string{"digits.txt": "0123456789"})
	for _, tc := range []struct {
		rng, ifRange string
		status       int
		body, cr     string
	}{
		{"bytes=0-3", "", 206, "0123", "bytes 0-3/10"},
		{"bytes=7-", "", 206, "789", "bytes 7-9/10"},
		{"bytes=-2", "", 206, "89", "bytes 8-9/10"},
		{"bytes=5-100", "", 206, "56789", "bytes 5-9/10"},
		{"bytes=0-0", "", 206, "0", "bytes 0-0/10"},
		{"bytes=10-", "", 416, "", "bytes */10"},
		{"bytes=20-30", "", 416, "", "bytes */10"},
		{"bytes=9-2", "", 200, "0123456789", ""},
		{"bytes=abc", "", 200, "0123456789", ""},
		{"bytes=", "", 200, "0123456789", ""},
		{"chars=0-3", "", 200, "0123456789", ""},
		{"bytes=0-3", `"stale"`, 200, "0123456789", ""},
	} {
		header := []string{"Range", tc.rng}
		if tc.ifRange != "" {
			header = append(header, "If-Range", tc.ifRange)
		}
		resp, body := s.do(t, "GET", "/static/digits.txt", header...)
		if resp.StatusCode == 416 {
			body = ""
		}
		if resp.StatusCode != tc.status || (tc.status != 416 && body != tc.body) || resp.Header.Get("Content-Range") != tc.cr {
			t.Errorf("Range %q If-Range %q: %d %q %q; want %d %q %q", tc.rng, tc.ifRange, resp.StatusCode, body, resp.Header.Get("Content-Range"), tc.status, tc.body, tc.cr)
		}
	}
	// Two ranges: a multipart response with both parts.
	resp, body := s.do(t, "GET", "/static/digits.txt", "Range", "bytes=0-1,8-9")
	_, params, _ := mimeParams(resp.Header.Get("Content-Type"))
	if resp.StatusCode != 206 || params["boundary"] == "" {
		t.Fatalf("two ranges: %d %q", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	mr := multipart.NewReader(strings.NewReader(body), params["boundary"])
	var parts []string
	for {
		p, err := mr.NextPart()
		if err != nil {
			break
		}
		b, _ := io.ReadAll(p)
		parts = append(parts, string(b))
	}
	if strings.Join(parts, ",") != "01,89" {
		t.Errorf("parts %q", parts)
	}
	// Absurd: thousands of ranges get the whole file, not a huge response.
	resp, body = s.do(t, "GET", "/static/digits.txt", "Range", "bytes="+strings.Repeat("0-9,", 2000)+"0-9")
	if resp.StatusCode != 200 || body != "0123456789" {
		t.Errorf("2001 ranges: %d %q, want the whole file", resp.StatusCode, body)
	}
}

func TestStaticServesPrecompressedSiblings(t *testing.T) {
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write([]byte("var big = 1;"))
	zw.Close()
	s := newStaticFixture(t, map[string]string{
		"app.js": "var big = 1;", "app.js.gz": gz.String(), "app.js.br": "BROTLI-BYTES",
		"plain.js": "var x;",
	})
	for _, tc := range []struct{ accept, encoding, body string }{
		{"gzip, deflate, br", "br", "BROTLI-BYTES"},
		{"gzip", "gzip", gz.String()},
		{"br;q=0, gzip;q=0.5", "gzip", gz.String()},
		{"identity", "", "var big = 1;"},
		{"", "", "var big = 1;"},
		{"gzip;q=0", "", "var big = 1;"},
	} {
		resp, body := s.do(t, "GET", "/static/app.js", "Accept-Encoding", tc.accept)
		if resp.StatusCode != 200 || resp.Header.Get("Content-Encoding") != tc.encoding || body != tc.body {
			t.Errorf("Accept-Encoding %q: %d encoding %q body %q", tc.accept, resp.StatusCode, resp.Header.Get("Content-Encoding"), body)
		}
		if resp.Header.Get("Vary") != "Accept-Encoding" || resp.Header.Get("Content-Type") != "text/javascript; charset=utf-8" {
			t.Errorf("Accept-Encoding %q: Vary %q, type %q", tc.accept, resp.Header.Get("Vary"), resp.Header.Get("Content-Type"))
		}
	}
	br, _ := s.do(t, "GET", "/static/app.js", "Accept-Encoding", "br")
	id, _ := s.do(t, "GET", "/static/app.js")
	if br.Header.Get("Etag") == id.Header.Get("Etag") {
		t.Error("the brotli and identity responses share an ETag")
	}
	if resp, _ := s.do(t, "GET", "/static/plain.js", "Accept-Encoding", "br"); resp.Header.Get("Vary") != "" || resp.Header.Get("Content-Encoding") != "" {
		t.Errorf("a file without siblings: Vary %q, encoding %q", resp.Header.Get("Vary"), resp.Header.Get("Content-Encoding"))
	}
}

func TestStaticNeverServesOutsideTheFolder(t *testing.T) {
	s := newStaticFixture(t, map[string]string{"ok.txt": "ok", "sub/index.html": "<p>index</p>"})
	// A symlink pointing out, as a hand-made folder might have.
	os.Symlink(filepath.Join(s.dir, "..", "..", "secret.txt"), filepath.Join(s.dir, "out.txt"))
	os.Symlink("/etc", filepath.Join(s.dir, "etc"))
	os.Symlink("ok.txt", filepath.Join(s.dir, "alias.txt"))
	for _, path := range []string{
		"/static/../secret.txt",
		"/static/../../secret.txt",
		"/static/%2e%2e/secret.txt",
		"/static/%2E%2E/%2e%2e/secret.txt",
		"/static/..%2fsecret.txt",
		"/static/..%2F..%2Fsecret.txt",
		"/static/sub/../../secret.txt",
		"/static/..\\secret.txt",
		"/static/..%5csecret.txt",
		"/static/ok.txt%00.png",
		"/static//etc/passwd",
		"/static/out.txt",
		"/static/etc/passwd",
		"/static/etc/",
		"/static/./ok.txt",
		"/static/%252e%252e/secret.txt",
	} {
		resp, body := s.do(t, "GET", path)
		if resp.StatusCode != 404 || strings.Contains(body, "SECRET") || strings.Contains(body, "root:") {
			t.Errorf("%s: %d %q, want 404", path, resp.StatusCode, body)
		}
	}
	if resp, body := s.do(t, "GET", "/static/alias.txt"); resp.StatusCode != 200 || body != "ok" {
		t.Errorf("a symlink inside: %d %q, want it served", resp.StatusCode, body)
	}
	if resp, body := s.do(t, "GET", "/static/sub/"); resp.StatusCode != 200 || body != "<p>index</p>" {
		t.Errorf("folder: %d %q, want its index.html", resp.StatusCode, body)
	}
	if resp, _ := s.do(t, "GET", "/static/sub?x=1"); resp.StatusCode != 301 || resp.Header.Get("Location") != "/static/sub/?x=1" {
		t.Errorf("folder without slash: %d %q, want a redirect", resp.StatusCode, resp.Header.Get("Location"))
	}
	if resp, _ := s.do(t, "GET", "/static/ok.txt/"); resp.StatusCode != 404 {
		t.Errorf("a file asked for as a folder: %d, want 404", resp.StatusCode)
	}
	if resp, _ := s.do(t, "GET", "/static/"); resp.StatusCode != 404 {
		t.Errorf("a folder without index.html: %d, want 404", resp.StatusCode)
	}
}

func TestStaticMountsSearchVersionsInOrderAndSwitchWithTheTable(t *testing.T) {
	root := t.TempDir()
	write := func(version, name, body string) string {
		dir := filepath.Join(root, version, "0")
		os.MkdirAll(dir, 0o755)
		os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644)
		return dir
	}
	v1 := write("1", "app.css", "v1")
	write("1", "app.11111111.css", "old fingerprinted")
	v2 := write("2", "app.css", "v2")
	b := newBackend(t, "app")
	p, srv := newTestProxy(t)
	route := func(gen int64, dirs ...string) {
		r := newRoute("shop/prod", []string{"shop.test"}, b.upstream("b"))
		for _, d := range dirs {
			r.Static = append(r.Static, jack.StaticMount{URL: "/static/", Dir: d})
		}
		setRoutes(t, p, gen, r)
	}
	getPath := func(path string) (int, string) {
		req, _ := http.NewRequest("GET", srv.URL+path, nil)
		req.Host = "shop.test"
		resp, err := srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(body)
	}
	route(1, v1)
	if _, body := getPath("/static/app.css"); body != "v1" {
		t.Fatalf("v1 serves %q", body)
	}
	route(2, v2, v1) // mid-rollout: the new version first, the old behind it
	if _, body := getPath("/static/app.css"); body != "v2" {
		t.Errorf("mid-rollout app.css = %q, want v2", body)
	}
	if status, body := getPath("/static/app.11111111.css"); status != 200 || body != "old fingerprinted" {
		t.Errorf("mid-rollout old asset: %d %q, want it from v1", status, body)
	}
	if status, body := getPath("/other"); status != 200 || backendOf(t, body) != "app" {
		t.Errorf("a path outside the mount: %d %q, want the app", status, body)
	}
	route(3, v2)
	if status, _ := getPath("/static/app.11111111.css"); status != 404 {
		t.Errorf("after the rollout the old asset responds %d, want 404", status)
	}
	if n := b.requests.Load(); n != 1 {
		t.Errorf("the app got %d requests, want only the one outside the mount", n)
	}
}

func TestFingerprintedNames(t *testing.T) {
	for name, want := range map[string]bool{
		"app.3f9a2c1e.css":        true,
		"main.3f9a2c1e1a2b.js":    true,
		"app-3f9a2c1e.css":        true,
		"index-BWh8ZmAq.js":       true,
		"chunk.5f2b7c91.chunk.js": true,
		"app.css":                 false,
		"jquery-3.6.0.min.js":     false,
		"bootstrap.min.css":       false,
		"favicon.ico":             false,
		"deadbeef.css":            false,
		"report-database.pdf":     false,
		"image-Building.png":      false,
	} {
		if got := fingerprinted(name); got != want {
			t.Errorf("fingerprinted(%q) = %v, want %v", name, got, want)
		}
	}
}

func mimeParams(v string) (string, map[string]string, error) {
	_, params, err := mimeParse(v)
	return "", params, err
}
