package http1

import (
	"bufio"
	"io"
	"net/http"

	"golang.org/x/net/http/httpguts"
)

// ResponseReader reads the response heads of one upstream connection, as
// the server's headReader does request heads: the common response —
// HTTP/1.1, a status with a body framed by one Content-Length, plain
// header lines, a head that fits in the read buffer — is parsed into a
// Response reused from the connection's previous response, with one
// allocation; anything else (informational and bodyless statuses, chunked
// bodies, trailers, responses to HEAD, HTTP/1.0) goes to http.ReadResponse
// (TestResponseReaderAgreesWithNetHTTP).
//
// The Response returned is reused for the next one: whoever reads it is
// done with it (its head written on, its body read) before reading the
// next. The zero ResponseReader is ready to use.
type ResponseReader struct {
	resp   http.Response
	fields fields
	body   sizedBody
}

// Read reads the response to req from br.
func (a *ResponseReader) Read(br *bufio.Reader, req *http.Request) (*http.Response, error) {
	if req.Method != http.MethodHead {
		if head := peekHead(br); head != nil {
			if resp := a.parse(head, br, req); resp != nil {
				br.Discard(len(head))
				return resp, nil
			}
		}
	}
	return http.ReadResponse(br, req)
}

// parse parses a whole head ending in CRLF CRLF, or returns nil if it is
// not one the fast path takes.
func (a *ResponseReader) parse(head []byte, br *bufio.Reader, req *http.Request) *http.Response {
	s := string(head)
	line, rest, ok := cutCRLF(s)
	if !ok || len(line) < len("HTTP/1.1 200") || line[:len("HTTP/1.1 ")] != "HTTP/1.1 " {
		return nil
	}
	status := line[len("HTTP/1.1 "):]
	code, ok := statusCode(status)
	if !ok || code < 200 || code == http.StatusNoContent || code == http.StatusNotModified || !plainFieldValue(status) {
		return nil
	}
	if !a.fields.parse(rest) {
		return nil
	}
	header := a.fields.header
	cl := header["Content-Length"]
	if len(cl) != 1 || header["Transfer-Encoding"] != nil || header["Trailer"] != nil {
		return nil
	}
	length, ok := contentLength(cl[0])
	if !ok {
		return nil
	}
	fixPragma(header)
	closeAfter := httpguts.HeaderValuesContainsToken(header["Connection"], "close")
	if closeAfter {
		delete(header, "Connection") // as http.ReadResponse does
	}
	a.resp = http.Response{
		Status:        status,
		StatusCode:    code,
		Proto:         "HTTP/1.1",
		ProtoMajor:    1,
		ProtoMinor:    1,
		Header:        header,
		ContentLength: length,
		Close:         closeAfter,
		Request:       req,
	}
	if length == 0 {
		a.resp.Body = http.NoBody
	} else {
		a.body = sizedBody{br: br, remaining: length}
		a.resp.Body = &a.body
	}
	return &a.resp
}

// statusCode returns the code of a status ("200 OK", "404"): three digits,
// then the end or a space.
func statusCode(status string) (int, bool) {
	if len(status) < 3 || len(status) > 3 && status[3] != ' ' {
		return 0, false
	}
	code := 0
	for i := range 3 {
		c := status[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		code = 10*code + int(c-'0')
	}
	return code, true
}

// contentLength parses a Content-Length of 1 to 18 digits.
func contentLength(v string) (int64, bool) {
	if v == "" || len(v) > 18 {
		return 0, false
	}
	var n int64
	for i := 0; i < len(v); i++ {
		c := v[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		n = 10*n + int64(c-'0')
	}
	return n, true
}

// sizedBody reads a body of a known length off the connection, as
// net/http's body does: io.EOF at its end, io.ErrUnexpectedEOF if the
// connection ends first.
type sizedBody struct {
	br        *bufio.Reader
	remaining int64
}

func (b *sizedBody) Read(p []byte) (int, error) {
	if b.remaining <= 0 {
		return 0, io.EOF
	}
	if int64(len(p)) > b.remaining {
		p = p[:b.remaining]
	}
	n, err := b.br.Read(p)
	b.remaining -= int64(n)
	if b.remaining == 0 {
		return n, io.EOF
	}
	if err == io.EOF {
		err = io.ErrUnexpectedEOF
	}
	return n, err
}

func (b *sizedBody) Close() error { return nil }
