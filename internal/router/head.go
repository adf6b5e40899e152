package router

import (
	"bufio"
	"net/http"
	"net/textproto"
	"net/url"
	"strings"

	"golang.org/x/net/http/httpguts"
)

// headReader reads the request heads of a client connection. The common
// request — without a body, with an origin-form path, CRLF line ends and a
// head that fits in the connection's read buffer — is parsed here into a
// Request, URL and Header reused from the previous request read, with one
// allocation (the head, copied into a string that every
// field is a part of). Anything else goes to http.ReadRequest, so that what
// the router accepts and refuses is net/http's: the fast path only ever
// takes heads that http.ReadRequest would read the same way
// (TestHeadReaderAgreesWithNetHTTP).
//
// http.ReadRequest allocates for every request, mostly the header map and
// its strings: most of what the router allocated serving a static file
// (bench/README.md, "Request heads without net/http's allocations").
//
// The Request returned is reused for the next head read: by the same
// connection, or by another once this one is idle and has given its
// connReader back. Nothing may keep it, its URL or its Header past the
// answer. Requests that are hijacked end their connection, which keeps its
// reader, so theirs are never reused.
type headReader struct {
	req    http.Request
	url    url.URL
	fields fields
}

// fields is the header map of a connection's heads, reused from one head to
// the next, with the backing of its values.
type fields struct {
	header http.Header
	values []string // one each
}

// parse parses the header lines of a head, from after its first line to
// the blank line that ends it, and reports whether every line was plain:
// a name of letters, digits and dashes, a colon, a value without control
// bytes. Values of a repeated name are kept in order, as textproto does.
func (f *fields) parse(lines string) bool {
	if f.header == nil {
		f.header = make(http.Header, 16)
		f.values = make([]string, maxFastHeaders)
	}
	clear(f.header)
	n := 0
	for {
		line, rest, ok := cutCRLF(lines)
		if !ok {
			return false
		}
		lines = rest
		if line == "" {
			return rest == ""
		}
		if n == maxFastHeaders {
			return false
		}
		name, value, ok := cutByte(line, ':')
		if !ok || !plainFieldName(name) {
			return false
		}
		value = trimOWS(value)
		if !plainFieldValue(value) {
			return false
		}
		key := name
		if !isCanonicalKey(name) {
			key = textproto.CanonicalMIMEHeaderKey(name)
		}
		if vv, dup := f.header[key]; dup {
			f.header[key] = append(vv, value)
			continue
		}
		f.values[n] = value
		f.header[key] = f.values[n : n+1 : n+1]
		n++
	}
}

// fixPragma treats "Pragma: no-cache" without a Cache-Control as
// "Cache-Control: no-cache", as net/http's readers do.
func fixPragma(h http.Header) {
	if pragma := h["Pragma"]; len(pragma) > 0 && pragma[0] == "no-cache" {
		if _, ok := h["Cache-Control"]; !ok {
			h["Cache-Control"] = []string{"no-cache"}
		}
	}
}

// read reads the next request head from br.
func (h *headReader) read(br *bufio.Reader) (*http.Request, error) {
	if head := peekHead(br); head != nil {
		if req := h.parse(head); req != nil {
			br.Discard(len(head))
			return req, nil
		}
	}
	return http.ReadRequest(br)
}

// peekHead returns the request head at the front of br, up to and including
// the blank line that ends it, without consuming it. It returns nil when
// the head does not end in CRLF CRLF within br's buffer, or reading fails:
// http.ReadRequest then reads (or refuses) it.
func peekHead(br *bufio.Reader) []byte {
	for {
		buf, _ := br.Peek(br.Buffered())
		for i := 0; i < len(buf)-1; i++ {
			if buf[i] != '\n' {
				continue
			}
			switch {
			case buf[i+1] == '\n': // a bare LF ends the head: not ours
				return nil
			case buf[i+1] == '\r' && i+2 < len(buf):
				if buf[i+2] == '\n' {
					return buf[:i+3]
				}
			case buf[i+1] == '\r':
				// The head may end with the next byte.
			}
		}
		if len(buf) == br.Size() {
			return nil // larger than the buffer
		}
		if _, err := br.Peek(len(buf) + 1); err != nil {
			return nil
		}
	}
}

// maxFastHeaders is the most header lines the fast path takes.
const maxFastHeaders = 64

// parse parses a whole head ending in CRLF CRLF, or returns nil if it is
// not one the fast path takes.
func (h *headReader) parse(head []byte) *http.Request {
	s := string(head) // the one allocation: every field is a part of it
	line, rest, ok := cutCRLF(s)
	if !ok {
		return nil
	}
	method, line, ok1 := cutByte(line, ' ')
	uri, proto, ok2 := cutByte(line, ' ')
	if !ok1 || !ok2 || !validMethodToken(method) {
		return nil
	}
	major, minor := 1, 1
	switch proto {
	case "HTTP/1.1":
	case "HTTP/1.0":
		minor = 0
	default:
		return nil
	}
	path, query, hasQuery := cutByte(uri, '?')
	if !plainPath(path) || hasQuery && !plainQuery(query) {
		return nil
	}

	if !h.fields.parse(rest) {
		return nil
	}
	header := h.fields.header
	if header["Content-Length"] != nil || header["Transfer-Encoding"] != nil || header["Trailer"] != nil || len(header["Host"]) > 1 {
		return nil // a body or its framing, or a head net/http refuses
	}
	fixPragma(header)
	conn := header["Connection"]
	closeAfter := httpguts.HeaderValuesContainsToken(conn, "close")
	if minor == 0 {
		closeAfter = closeAfter || !httpguts.HeaderValuesContainsToken(conn, "keep-alive")
	}
	host := ""
	if v := header["Host"]; len(v) > 0 {
		host = v[0]
		delete(header, "Host") // as http.ReadRequest does: it is req.Host
	}

	h.url = url.URL{Path: path, RawQuery: query, ForceQuery: hasQuery && query == ""}
	h.req = http.Request{
		Method:     method,
		URL:        &h.url,
		Proto:      proto,
		ProtoMajor: major,
		ProtoMinor: minor,
		Header:     header,
		Body:       http.NoBody,
		Close:      closeAfter,
		Host:       host,
		RequestURI: uri,
	}
	return &h.req
}

// cutCRLF cuts s at its first line end, which must be CRLF.
func cutCRLF(s string) (line, rest string, ok bool) {
	for i := 0; i < len(s); i++ {
		if s[i] == '\n' {
			if i == 0 || s[i-1] != '\r' {
				return "", "", false
			}
			return s[:i-1], s[i+1:], true
		}
	}
	return "", "", false
}

func cutByte(s string, c byte) (before, after string, found bool) {
	if i := strings.IndexByte(s, c); i >= 0 {
		return s[:i], s[i+1:], true
	}
	return s, "", false
}

// validMethodToken reports whether m is a method http.ReadRequest takes:
// an RFC 9110 token.
func validMethodToken(m string) bool {
	if m == "" {
		return false
	}
	for i := 0; i < len(m); i++ {
		if !httpguts.IsTokenRune(rune(m[i])) {
			return false
		}
	}
	return true
}

// plainPath reports whether p is an absolute path that url.ParseRequestURI
// takes as it is: no escapes to decode, nothing it would escape again (so
// RawPath stays empty).
func plainPath(p string) bool {
	if p == "" || p[0] != '/' {
		return false
	}
	for i := 0; i < len(p); i++ {
		c := p[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		case c == '-' || c == '_' || c == '.' || c == '~' || c == '$' || c == '&' || c == '+' ||
			c == ',' || c == '/' || c == ':' || c == ';' || c == '=' || c == '@':
		default:
			return false
		}
	}
	return true
}

// plainQuery reports whether q is a raw query of visible ASCII without a
// fragment mark.
func plainQuery(q string) bool {
	for i := 0; i < len(q); i++ {
		if c := q[i]; c <= ' ' || c >= 0x7f || c == '#' {
			return false
		}
	}
	return true
}

// plainFieldName reports whether n is a header name of letters, digits and
// dashes (every other token character goes to net/http).
func plainFieldName(n string) bool {
	if n == "" {
		return false
	}
	for i := 0; i < len(n); i++ {
		c := n[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}

// plainFieldValue reports whether v holds only bytes net/http accepts in a
// header value.
func plainFieldValue(v string) bool {
	for i := 0; i < len(v); i++ {
		if c := v[i]; c < ' ' && c != '\t' || c == 0x7f {
			return false
		}
	}
	return true
}

// trimOWS trims the spaces and tabs around a header value.
func trimOWS(v string) string {
	for len(v) > 0 && (v[0] == ' ' || v[0] == '\t') {
		v = v[1:]
	}
	for len(v) > 0 && (v[len(v)-1] == ' ' || v[len(v)-1] == '\t') {
		v = v[:len(v)-1]
	}
	return v
}

// isCanonicalKey reports whether a header name of letters, digits and
// dashes is already in textproto's canonical form.
func isCanonicalKey(n string) bool {
	upper := true
	for i := 0; i < len(n); i++ {
		c := n[i]
		if upper && 'a' <= c && c <= 'z' || !upper && 'A' <= c && c <= 'Z' {
			return false
		}
		upper = c == '-'
	}
	return true
}
