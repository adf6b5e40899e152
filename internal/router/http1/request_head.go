package http1

import (
	"bufio"
	"net/http"
	"net/url"

	"golang.org/x/net/http/httpguts"
)

// headReader reads the request heads of a client connection. The common
// request — without a body, with an origin-form path, CRLF line ends and a
// head that fits in the connection's read buffer — is parsed here into a
// Request, URL and Header reused from the previous request read, with one
// allocation (the head, copied into a string that every field is a part
// of). Anything else goes to http.ReadRequest, so that what the server
// accepts and refuses is net/http's: the fast path only ever
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
// response. Requests that are hijacked end their connection, which keeps its
// reader, so theirs are never reused.
type headReader struct {
	req    http.Request
	url    url.URL
	fields fields
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
