package router

import (
	"bufio"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httputil"
	"strconv"
	"strings"
	"time"
)

// upstreamHeaderTimeout bounds how long an app may take to begin its
// response, as nginx's proxy_read_timeout does; past it the client gets
// 504.
const upstreamHeaderTimeout = 60 * time.Second

// errUpstreamTimeout is the cause of a request whose app did not begin
// its response in time.
var errUpstreamTimeout = errors.New("the app did not begin its answer in time")

// hopHeaders describe one connection, not the message: a proxy drops them
// (RFC 9110 section 7.6.1). The forwarding headers are the router's to set.
var hopHeaders = map[string]bool{
	"Connection":          true,
	"Proxy-Connection":    true,
	"Keep-Alive":          true,
	"Proxy-Authenticate":  true,
	"Proxy-Authorization": true,
	"Te":                  true,
	"Trailer":             true,
	"Transfer-Encoding":   true,
	"Upgrade":             true,
}

// requestOwnHeaders are request headers the router writes itself.
var requestOwnHeaders = map[string]bool{
	"Content-Length":    true,
	"Expect":            true, // the router has already said 100 Continue
	"X-Forwarded-For":   true,
	"X-Forwarded-Host":  true,
	"X-Forwarded-Proto": true,
	"X-Request-Id":      true,
}

// bodyMode says how a request's body is sent on.
type bodyMode int

const (
	noBody bodyMode = iota
	lengthBody
	chunkedBody
)

func requestBodyMode(r *http.Request) bodyMode {
	switch {
	case r.ContentLength > 0:
		return lengthBody
	case r.ContentLength < 0 && r.Body != nil && r.Body != http.NoBody:
		return chunkedBody
	}
	return noBody
}

// connectionTokens returns the header names a Connection header lists,
// canonical, or nil.
func connectionTokens(h http.Header) map[string]bool {
	values := h["Connection"]
	if len(values) == 0 {
		return nil
	}
	tokens := map[string]bool{}
	for _, v := range values {
		for _, tok := range strings.Split(v, ",") {
			if tok = strings.TrimSpace(tok); tok != "" {
				tokens[http.CanonicalHeaderKey(tok)] = true
			}
		}
	}
	return tokens
}

// writeRequestHead writes the request line and headers of r, as it goes to
// the upstream: hop-by-hop headers dropped, forwarding headers set.
func writeRequestHead(bw *bufio.Writer, r *http.Request, f *flight, mode bodyMode) {
	bw.WriteString(r.Method)
	bw.WriteByte(' ')
	bw.WriteString(requestTarget(r))
	bw.WriteString(" HTTP/1.1\r\nHost: ")
	bw.WriteString(r.Host)
	bw.WriteString("\r\n")
	tokens := connectionTokens(r.Header)
	for k, vv := range r.Header {
		if hopHeaders[k] || requestOwnHeaders[k] || tokens[k] {
			continue
		}
		for _, v := range vv {
			bw.WriteString(k)
			bw.WriteString(": ")
			bw.WriteString(v)
			bw.WriteString("\r\n")
		}
	}
	bw.WriteString("X-Forwarded-For: ")
	for _, prior := range r.Header["X-Forwarded-For"] {
		bw.WriteString(prior)
		bw.WriteString(", ")
	}
	bw.WriteString(f.client)
	bw.WriteString("\r\nX-Forwarded-Host: ")
	bw.WriteString(r.Host)
	if r.TLS != nil {
		bw.WriteString("\r\nX-Forwarded-Proto: https\r\nX-Request-Id: ")
	} else {
		bw.WriteString("\r\nX-Forwarded-Proto: http\r\nX-Request-Id: ")
	}
	bw.WriteString(f.requestID)
	bw.WriteString("\r\n")
	if f.upgrade != "" {
		bw.WriteString("Connection: Upgrade\r\nUpgrade: ")
		bw.WriteString(f.upgrade)
		bw.WriteString("\r\n")
	}
	switch mode {
	case lengthBody:
		bw.WriteString("Content-Length: ")
		bw.WriteString(strconv.FormatInt(r.ContentLength, 10))
		bw.WriteString("\r\n")
	case chunkedBody:
		bw.WriteString("Transfer-Encoding: chunked\r\n")
	default:
		if r.Method == http.MethodPost || r.Method == http.MethodPut || r.Method == http.MethodPatch {
			bw.WriteString("Content-Length: 0\r\n")
		}
	}
	bw.WriteString("\r\n")
}

// requestTarget returns the path and query to send upstream, as the client
// wrote them (the app decides what they mean), in origin form.
func requestTarget(r *http.Request) string {
	if r.RequestURI == "*" {
		return "*"
	}
	if u := r.RequestURI; u != "" && u[0] == '/' {
		return u
	}
	target := r.URL.EscapedPath()
	if target == "" {
		target = "/"
	}
	if r.URL.RawQuery != "" || r.URL.ForceQuery {
		target += "?" + r.URL.RawQuery
	}
	return target
}

// sendBody copies the request body to the upstream and flushes it.
func sendBody(bw *bufio.Writer, body io.Reader, mode bodyMode, buf []byte) error {
	switch mode {
	case lengthBody:
		if _, err := io.CopyBuffer(writerOnly{bw}, body, buf); err != nil {
			return err
		}
	case chunkedBody:
		cw := httputil.NewChunkedWriter(bw)
		if _, err := io.CopyBuffer(cw, body, buf); err != nil {
			return err
		}
		if err := cw.Close(); err != nil {
			return err
		}
		if _, err := bw.WriteString("\r\n"); err != nil {
			return err
		}
	}
	return bw.Flush()
}

// writerOnly hides a writer's ReadFrom, so io.CopyBuffer uses the buffer.
type writerOnly struct{ io.Writer }

// bodyError marks an error reading the client's request body, as opposed
// to writing it to the upstream.
type bodyError struct{ err error }

func (e *bodyError) Error() string { return "read request body: " + e.err.Error() }
func (e *bodyError) Unwrap() error { return e.err }

// readingBody wraps the client's body so that its errors are told apart.
type readingBody struct{ r io.Reader }

func (b readingBody) Read(p []byte) (int, error) {
	n, err := b.r.Read(p)
	if err != nil && err != io.EOF {
		err = &bodyError{err}
	}
	return n, err
}

// exchange is one request sent to one upstream connection and the
// response read back.
type exchange struct {
	conn     *upstreamConn
	resp     *http.Response
	bodyDone chan error // the body sender's result; nil when bodyless
	flight   *flight    // whose cut closes conn
	cutID    uint64
}

// stop stops the flight's cut from closing the connection, and reports
// whether it had not closed it already.
func (ex *exchange) stop() bool { return ex.flight.keep(ex.cutID) }

// roundTrip sends r to f's upstream and returns the response's head,
// retrying on another upstream when the first could not be reached (see
// flight.canRetry). It returns the upstream's error when no upstream
// responded.
func (p *Proxy) roundTrip(r *http.Request, f *flight, mode bodyMode) (*exchange, error) {
	for {
		ex, err := p.tryUpstream(r, f, mode)
		if err == nil {
			f.target.state.markResponded()
			return ex, nil
		}
		if isDialError(err) {
			f.target.state.markFailed()
		}
		if !f.canRetry(err) {
			return nil, err
		}
		failed := f.target.addr
		if !p.reacquire(f) {
			return nil, err
		}
		p.logger.Debug("retrying on another upstream", "host", f.host, "failed", failed, "upstream", f.target.addr, "err", err)
	}
}

// tryUpstream sends r once, over a pooled or new connection to f's
// upstream. A pooled connection that turns out to be closed is replaced by
// a new one to the same upstream, for a request safe to send again.
func (p *Proxy) tryUpstream(r *http.Request, f *flight, mode bodyMode) (*exchange, error) {
	pool := f.target.state.pool
	for {
		conn, err := pool.get(f)
		if err != nil {
			return nil, err
		}
		ex, err := p.send(r, f, mode, conn)
		if err == nil {
			return ex, nil
		}
		if conn.reused && f.canRetry(err) && f.Err() == nil {
			continue // the app closed the idle connection as we sent
		}
		return nil, err
	}
}

// send writes r on conn and reads the response's head. The connection is
// closed at once if the flight ends (a drain's cut, or the client gone).
func (p *Proxy) send(r *http.Request, f *flight, mode bodyMode, conn *upstreamConn) (*exchange, error) {
	ex := &exchange{conn: conn}
	ex.flight, ex.cutID = f, f.closeOnCut(conn.Conn)
	writeRequestHead(conn.bw, r, f, mode)
	if mode == noBody {
		if err := conn.bw.Flush(); err != nil {
			ex.abandon()
			return nil, err
		}
	} else {
		done := make(chan error, 1) // buffered: the sender never waits
		ex.bodyDone = done
		go func() {
			buf := p.buffers.get()
			err := sendBody(conn.bw, readingBody{r.Body}, mode, buf)
			p.buffers.put(buf)
			if err != nil {
				conn.Conn.Close() // unblocks the read of the response
			}
			done <- err
		}()
	}
	conn.Conn.SetReadDeadline(time.Now().Add(p.headerTimeout))
	resp, err := conn.responses.Read(conn.br, r)
	if err != nil {
		bodyDone := ex.bodyDone
		ex.bodyDone = nil
		ex.abandon()
		if bodyDone != nil {
			if berr := <-bodyDone; berr != nil {
				var be *bodyError
				if errors.As(berr, &be) {
					return nil, berr
				}
			}
		}
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() && f.Err() == nil {
			return nil, errUpstreamTimeout
		}
		return nil, err
	}
	ex.resp = resp
	return ex, nil
}

// nextResponse reads the response that follows an informational one.
func (ex *exchange) nextResponse(r *http.Request) error {
	resp, err := ex.conn.responses.Read(ex.conn.br, r)
	if err != nil {
		return err
	}
	ex.resp = resp
	return nil
}

// headRead clears the header deadline once the response's head is in.
func (ex *exchange) headRead() {
	ex.conn.Conn.SetReadDeadline(time.Time{})
}

// abandon closes the connection: the exchange did not end cleanly.
func (ex *exchange) abandon() {
	ex.stop()
	ex.conn.Conn.Close() // ends the body sender, if any
	ex.bodyDone = nil
}

// finish gives the connection back to the pool when the whole exchange
// ended cleanly (response read to its end, body sent, neither side closing),
// else closes it.
func (ex *exchange) finish(pool *connPool, complete bool) {
	if !ex.stop() {
		complete = false // the flight ended and closed the connection
	}
	if ex.bodyDone != nil {
		select {
		case err := <-ex.bodyDone:
			complete = complete && err == nil
		default:
			// The app responded before reading the whole body.
			complete = false
			ex.conn.Conn.Close()
			<-ex.bodyDone
		}
	}
	if !complete || ex.resp.Close {
		ex.conn.Conn.Close()
		return
	}
	pool.put(ex.conn)
}
