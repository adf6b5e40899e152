package http1

import (
	"bufio"
	"net/http"
	"net/textproto"
	"strings"
)

// The fields of request and response heads, and the pieces of the fast
// parsers that read them (headReader, ResponseReader).

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

// peekHead returns the head (of a request or a response) at the front of
// br, up to and including the blank line that ends it, without consuming
// it. It returns nil when the head does not end in CRLF CRLF within br's
// buffer, or reading fails: net/http's parser then reads (or refuses) it.
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
