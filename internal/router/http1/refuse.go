package http1

import (
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"time"

	"golang.org/x/net/http/httpguts"
)

// refuse responds to a request that did not parse, as net/http's server
// does.
func (c *conn) refuse(err error) {
	var ne net.Error
	switch {
	case errors.Is(err, io.EOF), errors.Is(err, net.ErrClosed):
		// The client closed the connection between requests.
	case errors.As(err, &ne) && ne.Timeout():
		// Slow or silent client: nothing worth responding.
	case errors.Is(err, errHeadTooLarge):
		c.writeError(http.StatusRequestHeaderFieldsTooLarge, "request header fields too large")
	default:
		msg := err.Error()
		if strings.Contains(msg, "unsupported protocol version") || strings.Contains(msg, "malformed HTTP version") {
			c.writeError(http.StatusHTTPVersionNotSupported, "unsupported protocol version")
			return
		}
		c.writeError(http.StatusBadRequest, "bad request")
	}
}

// checkRequest applies the checks net/http's server makes beyond parsing.
// It returns a status and message for a request to refuse, else 0.
func checkRequest(req *http.Request) (int, string) {
	if req.ProtoMajor != 1 {
		return http.StatusHTTPVersionNotSupported, "unsupported protocol version"
	}
	if req.ProtoAtLeast(1, 1) && req.Host == "" && req.Method != http.MethodConnect {
		return http.StatusBadRequest, "missing required Host header"
	}
	if req.Host != "" && !httpguts.ValidHostHeader(req.Host) {
		return http.StatusBadRequest, "malformed Host header"
	}
	for k, vv := range req.Header {
		if !httpguts.ValidHeaderFieldName(k) {
			return http.StatusBadRequest, "invalid header name"
		}
		for _, v := range vv {
			if !httpguts.ValidHeaderFieldValue(v) {
				return http.StatusBadRequest, "invalid header value"
			}
		}
	}
	if expect := req.Header["Expect"]; len(expect) > 0 && !(len(expect) == 1 && strings.EqualFold(expect[0], "100-continue") && req.ProtoAtLeast(1, 1)) {
		return http.StatusExpectationFailed, "unsupported Expect"
	}
	return 0, ""
}

// writeError writes a plain response and leaves the connection to close.
func (c *conn) writeError(status int, msg string) {
	c.acquireWriter()
	c.conn.SetWriteDeadline(time.Now().Add(5 * time.Second))
	fmt.Fprintf(c.bw, "HTTP/1.1 %d %s\r\nContent-Type: text/plain; charset=utf-8\r\nConnection: close\r\nContent-Length: %d\r\n\r\n%s",
		status, http.StatusText(status), len(msg)+len(http.StatusText(status))+2, http.StatusText(status)+": "+msg)
	c.bw.Flush()
}
