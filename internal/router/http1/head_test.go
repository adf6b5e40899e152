package http1

import (
	"bufio"
	"io"
	"net/http"
	"reflect"
	"strings"
	"testing"
)

// requestHeads are heads the fast path takes and heads it must leave to
// net/http: both kinds must come out as http.ReadRequest reads them.
var requestHeads = []string{
	"GET / HTTP/1.1\r\nHost: shop.test\r\n\r\n",
	"GET /static/app.3f9a2c1e.css HTTP/1.1\r\nHost: shop.test\r\nUser-Agent: wrk\r\nAccept: */*\r\n\r\n",
	"HEAD /a/b;c=d/e:f@g$h&i+j,k=l~m_n.o-p HTTP/1.1\r\nHost: x\r\n\r\n",
	"GET /search?q=a+b&x=%20%zz/?&y= HTTP/1.1\r\nHost: x\r\n\r\n",
	"GET /path? HTTP/1.1\r\nHost: x\r\n\r\n",
	"GET /path?? HTTP/1.1\r\nHost: x\r\n\r\n",
	"GET /path?a#frag HTTP/1.1\r\nHost: x\r\n\r\n",
	"GET /p%41th HTTP/1.1\r\nHost: x\r\n\r\n",
	"GET /p!a*t(h)' HTTP/1.1\r\nHost: x\r\n\r\n",
	"GET /caf\xc3\xa9 HTTP/1.1\r\nHost: x\r\n\r\n",
	"GET //double//slash HTTP/1.1\r\nHost: x\r\n\r\n",
	"GET http://other.test/abs HTTP/1.1\r\nHost: x\r\n\r\n",
	"GET * HTTP/1.1\r\nHost: x\r\n\r\n",
	"OPTIONS * HTTP/1.1\r\nHost: x\r\n\r\n",
	"CONNECT shop.test:443 HTTP/1.1\r\nHost: shop.test:443\r\n\r\n",
	"GET / HTTP/1.0\r\n\r\n",
	"GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n",
	"GET / HTTP/1.0\r\nConnection: Keep-Alive, foo\r\n\r\n",
	"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
	"GET / HTTP/1.1\r\nHost: x\r\nConnection: upgrade, CLOSE\r\n\r\n",
	"GET / HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Key: abc\r\n\r\n",
	"GET / HTTP/2.0\r\nHost: x\r\n\r\n",
	"GET / HTTP/1.2\r\nHost: x\r\n\r\n",
	"GET / http/1.1\r\nHost: x\r\n\r\n",
	"GET /  HTTP/1.1\r\nHost: x\r\n\r\n",
	"GET / HTTP/1.1 \r\nHost: x\r\n\r\n",
	"G(T / HTTP/1.1\r\nHost: x\r\n\r\n",
	" GET / HTTP/1.1\r\nHost: x\r\n\r\n",
	"\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\n",
	"get / HTTP/1.1\r\nHost: x\r\n\r\n",
	"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n",
	"GET / HTTP/1.1\r\n\r\n",
	"GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n",
	"GET / HTTP/1.1\r\nhost: lower.test\r\n\r\n",
	"GET / HTTP/1.1\r\nHOST: upper.test\r\n\r\n",
	"GET / HTTP/1.1\r\nHost: x\r\nsec-ch-ua: \"Chromium\";v=\"130\"\r\nsec-fetch-site: none\r\naccept-encoding: gzip, br\r\n\r\n",
	"GET / HTTP/1.1\r\nHost: x\r\nX-Forwarded-For: 1.1.1.1\r\nx-forwarded-for: 2.2.2.2\r\nX-FORWARDED-FOR: 3.3.3.3\r\n\r\n",
	"GET / HTTP/1.1\r\nHost: x\r\nX-Empty:\r\nX-Spaces:    \t \r\nX-Trim: \t v a l \t\r\n\r\n",
	"GET / HTTP/1.1\r\nHost: x\r\nX-Utf8: caf\xc3\xa9 \xff\r\n\r\n",
	"GET / HTTP/1.1\r\nHost: x\r\nX-Ctl: a\x01b\r\n\r\n",
	"GET / HTTP/1.1\r\nHost: x\r\nX-Del: a\x7fb\r\n\r\n",
	"GET / HTTP/1.1\r\nHost: x\r\nX_Underscore: 1\r\n\r\n",
	"GET / HTTP/1.1\r\nHost: x\r\nX-Space : 1\r\n\r\n",
	"GET / HTTP/1.1\r\nHost: x\r\n: no name\r\n\r\n",
	"GET / HTTP/1.1\r\nHost: x\r\nNo-Colon\r\n\r\n",
	"GET / HTTP/1.1\r\nHost: x\r\nX-Fold: a\r\n  folded\r\n\r\n",
	"GET / HTTP/1.1\r\nHost: x\r\nX-A: 1\nX-B: 2\r\n\r\n",
	"GET / HTTP/1.1\nHost: x\n\n",
	"GET / HTTP/1.1\r\nHost: x\r\nPragma: no-cache\r\n\r\n",
	"GET / HTTP/1.1\r\nHost: x\r\nPragma: no-cache\r\nCache-Control: max-age=0\r\n\r\n",
	"GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n",
	"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc",
	"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n",
	"GET / HTTP/1.1\r\nHost: x\r\nTrailer: X-T\r\n\r\n",
	"GET / HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\n\r\n",
	"GET / HTTP/1.1\r\nHost: x\r\nX-1: a\r\nX-2: b\r\nX-3: c\r\nX-4: d\r\nX-5: e\r\nX-6: f\r\nX-7: g\r\nX-8: h\r\nX-9: i\r\n\r\n",
	"GET / HTTP/1.1\r\nHost: x\r\n" + strings.Repeat("X-Many: v\r\n", 70) + "\r\n",
	"GET / HTTP/1.1\r\nHost: x\r\n" + strings.Repeat("X-Long: "+strings.Repeat("v", 1000)+"\r\n", 6) + "\r\n",
}

// TestHeadReaderAgreesWithNetHTTP pins the fast path to net/http: every
// head it takes comes out field for field as http.ReadRequest reads it,
// and every head it leaves is read (or refused) by http.ReadRequest.
func TestHeadReaderAgreesWithNetHTTP(t *testing.T) {
	fast := 0
	for _, head := range requestHeads {
		if compareHeadReaders(t, head) {
			fast++
		}
	}
	if fast < 20 {
		t.Errorf("the fast path took only %d of the %d heads; it should take the common ones", fast, len(requestHeads))
	}
}

// TestHeadReaderReusesItsRequest shows that a connection's second request
// neither allocates its header map again nor keeps the first's fields.
func TestHeadReaderReusesItsRequest(t *testing.T) {
	var h headReader
	first := "GET /a?x=1 HTTP/1.1\r\nHost: one.test\r\nX-First: 1\r\n\r\n"
	second := "GET /b HTTP/1.1\r\nHost: two.test\r\n\r\n"
	br := bufio.NewReaderSize(strings.NewReader(first+second), 4096)
	r1, err := h.read(br)
	if err != nil || r1.URL.RawQuery != "x=1" {
		t.Fatalf("first: %v %v", r1, err)
	}
	r2, err := h.read(br)
	if err != nil {
		t.Fatal(err)
	}
	if r2.Host != "two.test" || r2.URL.Path != "/b" || r2.URL.RawQuery != "" || r2.Header.Get("X-First") != "" || len(r2.Header) != 0 {
		t.Errorf("second request %+v, header %v", r2, r2.Header)
	}
	src := strings.NewReader(second)
	allocs := testing.AllocsPerRun(100, func() {
		src.Reset(second)
		br.Reset(src)
		h.read(br)
	})
	if allocs > 1 {
		t.Errorf("%v allocations per request head; want 1 (the head's string)", allocs)
	}
}

func FuzzHeadReader(f *testing.F) {
	for _, head := range requestHeads {
		f.Add(head)
	}
	f.Fuzz(func(t *testing.T, head string) { compareHeadReaders(t, head) })
}

// compareHeadReaders reads head with the fast path and with
// http.ReadRequest, fails t where they differ, and reports whether the fast
// path took it.
func compareHeadReaders(t *testing.T, head string) bool {
	t.Helper()
	want, wantErr := http.ReadRequest(bufio.NewReaderSize(strings.NewReader(head), 4096))
	var h headReader
	br := bufio.NewReaderSize(strings.NewReader(head), 4096)
	got, gotErr := h.read(br)
	if (gotErr == nil) != (wantErr == nil) {
		t.Errorf("%q: error %v, net/http's %v", head, gotErr, wantErr)
		return false
	}
	if wantErr != nil {
		return false
	}
	took := got == &h.req
	if got.Method != want.Method || got.RequestURI != want.RequestURI || got.Proto != want.Proto ||
		got.ProtoMajor != want.ProtoMajor || got.ProtoMinor != want.ProtoMinor || got.Host != want.Host ||
		got.Close != want.Close || got.ContentLength != want.ContentLength || got.Body != want.Body && took ||
		!reflect.DeepEqual(got.URL, want.URL) || !reflect.DeepEqual(got.Header, want.Header) ||
		!reflect.DeepEqual(got.TransferEncoding, want.TransferEncoding) || !reflect.DeepEqual(got.Trailer, want.Trailer) {
		t.Errorf("%q (fast path: %v):\n got %s %q %s host=%q close=%v len=%d url=%#v header=%v\nwant %s %q %s host=%q close=%v len=%d url=%#v header=%v",
			head, took, got.Method, got.RequestURI, got.Proto, got.Host, got.Close, got.ContentLength, got.URL, got.Header,
			want.Method, want.RequestURI, want.Proto, want.Host, want.Close, want.ContentLength, want.URL, want.Header)
	}
	if took {
		// What follows the head is left for the body or the next request.
		if rest := head[len(head)-br.Buffered():]; !strings.HasSuffix(head, "\r\n\r\n"+rest) && rest != "" {
			t.Errorf("%q: left %q unread", head, rest)
		}
	}
	return took
}

// responseHeads are responses the fast path takes and responses it must
// leave to net/http, each followed by the bytes after its head.
var responseHeads = []string{
	"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 13\r\n\r\nHello, world!",
	"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n",
	"HTTP/1.1 404 Not Found\r\nContent-Length: 3\r\nX-A: 1\r\nx-a: 2\r\n\r\nabc",
	"HTTP/1.1 200\r\nContent-Length: 2\r\n\r\nok",
	"HTTP/1.1 200 \r\nContent-Length: 2\r\n\r\nok",
	"HTTP/1.1  200 OK\r\nContent-Length: 2\r\n\r\nok",
	"HTTP/1.1 2000 OK\r\nContent-Length: 2\r\n\r\nok",
	"HTTP/1.1 20 OK\r\nContent-Length: 2\r\n\r\nok",
	"HTTP/1.1 abc OK\r\nContent-Length: 2\r\n\r\nok",
	"HTTP/1.1 599 Weird\r\nContent-Length: 2\r\n\r\nok",
	"HTTP/1.1 600 Beyond\r\nContent-Length: 2\r\n\r\nok",
	"HTTP/1.1 200 O\x01K\r\nContent-Length: 2\r\n\r\nok",
	"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok",
	"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: keep-alive, Close\r\n\r\nok",
	"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: keep-alive\r\n\r\nok",
	"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 2\r\n\r\nok",
	"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\nok",
	"HTTP/1.1 200 OK\r\nContent-Length: +2\r\n\r\nok",
	"HTTP/1.1 200 OK\r\nContent-Length:  2 \r\n\r\nok",
	"HTTP/1.1 200 OK\r\nContent-Length: 99999999999999999999\r\n\r\nok",
	"HTTP/1.1 200 OK\r\n\r\nuntil the end",
	"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n",
	"HTTP/1.1 200 OK\r\nTrailer: X-T\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\nX-T: 1\r\n\r\n",
	"HTTP/1.1 204 No Content\r\n\r\n",
	"HTTP/1.1 304 Not Modified\r\nContent-Length: 10\r\n\r\n",
	"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok",
	"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n",
	"HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok",
	"HTTP/2.0 200 OK\r\nContent-Length: 2\r\n\r\nok",
	"HTTP/1.1 200 OK\r\nPragma: no-cache\r\nContent-Length: 2\r\n\r\nok",
	"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nshort",
	"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\ncut",
	"HTTP/1.1 200 OK\r\nX-Fold: a\r\n b\r\nContent-Length: 2\r\n\r\nok",
	"HTTP/1.1 200 OK\r\nSet-Cookie: a=1; Path=/\r\nSet-Cookie: b=2\r\nContent-Length: 2\r\n\r\nok",
}

func TestResponseReaderAgreesWithNetHTTP(t *testing.T) {
	fast := 0
	for _, response := range responseHeads {
		for _, method := range []string{"GET", "HEAD"} {
			if compareResponseReaders(t, response, method) {
				fast++
			}
		}
	}
	if fast < 10 {
		t.Errorf("the fast path took only %d responses; it should take the common ones", fast)
	}
}

func FuzzResponseReader(f *testing.F) {
	for _, response := range responseHeads {
		f.Add(response, false)
	}
	f.Fuzz(func(t *testing.T, response string, head bool) {
		method := "GET"
		if head {
			method = "HEAD"
		}
		compareResponseReaders(t, response, method)
	})
}

// compareResponseReaders reads response, to a request of method, with the
// fast path and with http.ReadResponse, body included, fails t where they
// differ, and reports whether the fast path took it.
func compareResponseReaders(t *testing.T, response, method string) bool {
	t.Helper()
	req := &http.Request{Method: method}
	want, wantErr := http.ReadResponse(bufio.NewReaderSize(strings.NewReader(response), 4096), req)
	var a ResponseReader
	got, gotErr := a.Read(bufio.NewReaderSize(strings.NewReader(response), 4096), req)
	if (gotErr == nil) != (wantErr == nil) {
		t.Errorf("%q: error %v, net/http's %v", response, gotErr, wantErr)
		return false
	}
	if wantErr != nil {
		return false
	}
	took := got == &a.resp
	gotBody, gotBodyErr := io.ReadAll(got.Body)
	wantBody, wantBodyErr := io.ReadAll(want.Body)
	if got.Status != want.Status || got.StatusCode != want.StatusCode || got.Proto != want.Proto ||
		got.ProtoMajor != want.ProtoMajor || got.ProtoMinor != want.ProtoMinor || got.Close != want.Close ||
		got.ContentLength != want.ContentLength || !reflect.DeepEqual(got.Header, want.Header) ||
		!reflect.DeepEqual(got.TransferEncoding, want.TransferEncoding) || !reflect.DeepEqual(got.Trailer, want.Trailer) ||
		string(gotBody) != string(wantBody) || (gotBodyErr == nil) != (wantBodyErr == nil) {
		t.Errorf("%q to %s (fast path: %v):\n got %q %s close=%v len=%d header=%v body=%q (%v)\nwant %q %s close=%v len=%d header=%v body=%q (%v)",
			response, method, took, got.Status, got.Proto, got.Close, got.ContentLength, got.Header, gotBody, gotBodyErr,
			want.Status, want.Proto, want.Close, want.ContentLength, want.Header, wantBody, wantBodyErr)
	}
	return took
}
