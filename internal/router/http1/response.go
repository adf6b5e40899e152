package http1

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"golang.org/x/net/http/httpguts"
)

// response is the http.ResponseWriter of one request on a conn; the
// connection reuses it for each request.
type response struct {
	c           *conn
	req         *http.Request
	header      http.Header
	status      int
	wroteHeader bool
	chunked     bool
	noBody      bool  // HEAD, 1xx, 204, 304
	length      int64 // Content-Length given; -1 when none
	written     int64
	closeAfter  bool
	hijacked    bool
	aborted     bool
	err         error // a write to the client failed
	body        trackedBody
}

func (w *response) reset(c *conn, req *http.Request) {
	h := w.header
	if h == nil {
		h = make(http.Header, 8)
	} else {
		clear(h)
	}
	*w = response{c: c, req: req, header: h, length: -1}
}

// Header returns the response's headers, to change before WriteHeader.
func (w *response) Header() http.Header { return w.header }

// WriteHeader writes the status line and headers. Informational statuses
// (other than 101) are written at once and may be followed by more.
func (w *response) WriteHeader(code int) {
	if w.wroteHeader || w.hijacked {
		return
	}
	if code < 100 || code > 999 {
		panic(fmt.Sprintf("invalid WriteHeader code %v", code))
	}
	bw := w.c.bw
	if code >= 100 && code < 200 && code != http.StatusSwitchingProtocols {
		writeStatusLine(bw, code)
		writeHeaderFields(bw, w.header)
		bw.WriteString("\r\n")
		if err := bw.Flush(); err != nil {
			w.err = err
		}
		return
	}
	w.wroteHeader, w.status = true, code
	h := w.header
	req := w.req
	w.noBody = req.Method == http.MethodHead || code == http.StatusNoContent || code == http.StatusNotModified
	if cl := h["Content-Length"]; len(cl) == 1 {
		if n, err := strconv.ParseInt(cl[0], 10, 64); err == nil && n >= 0 {
			w.length = n
		}
	}
	if code == http.StatusNoContent || code == http.StatusNotModified {
		delete(h, "Content-Length")
		delete(h, "Transfer-Encoding")
		w.length = -1
	}
	if w.c.srv.closesAfterResponse() || req.Close || hasToken(h["Connection"], "close") {
		w.closeAfter = true
	}
	if !req.ProtoAtLeast(1, 1) && !(w.length >= 0 || w.noBody) || !req.ProtoAtLeast(1, 1) && !hasToken(req.Header["Connection"], "keep-alive") {
		w.closeAfter = true // HTTP/1.0: the end of the body is the end of the connection
	}
	if w.length < 0 && !w.noBody && req.ProtoAtLeast(1, 1) {
		w.chunked = true
		delete(h, "Transfer-Encoding")
	}
	delete(h, "Connection")
	writeStatusLine(bw, code)
	writeHeaderFields(bw, h)
	if _, ok := h["Date"]; !ok {
		bw.WriteString("Date: ")
		bw.WriteString(httpDate())
		bw.WriteString("\r\n")
	}
	if w.chunked {
		bw.WriteString("Transfer-Encoding: chunked\r\n")
	}
	switch {
	case w.closeAfter:
		bw.WriteString("Connection: close\r\n")
	case !req.ProtoAtLeast(1, 1):
		bw.WriteString("Connection: keep-alive\r\n")
	}
	bw.WriteString("\r\n")
}

// Write writes body bytes, chunked when the length is not known.
func (w *response) Write(p []byte) (int, error) {
	if !w.wroteHeader {
		w.WriteHeader(http.StatusOK)
	}
	if w.err != nil {
		return 0, w.err
	}
	if w.hijacked {
		return 0, http.ErrHijacked
	}
	if w.noBody {
		return len(p), nil
	}
	if w.length >= 0 && w.written+int64(len(p)) > w.length {
		return 0, http.ErrContentLength
	}
	bw := w.c.bw
	if w.chunked {
		if len(p) == 0 {
			return 0, nil
		}
		bw.WriteString(strconv.FormatInt(int64(len(p)), 16))
		bw.WriteString("\r\n")
	}
	n, err := bw.Write(p)
	if w.chunked && err == nil {
		_, err = bw.WriteString("\r\n")
	}
	w.written += int64(n)
	if err != nil {
		w.err = err
	}
	return n, err
}

// ReadFrom sends a body of known length straight to the connection, so a
// file goes out with sendfile.
func (w *response) ReadFrom(src io.Reader) (int64, error) {
	if !w.wroteHeader {
		w.WriteHeader(http.StatusOK)
	}
	if w.chunked || w.noBody || w.err != nil || w.hijacked || w.length < 0 || w.c.inLoop.Load() {
		return io.Copy(writerOnly{w}, src) // an event loop's responses never wait on the socket
	}
	if err := w.c.bw.Flush(); err != nil {
		w.err = err
		return 0, err
	}
	rf, ok := w.c.conn.(io.ReaderFrom)
	if !ok {
		return io.Copy(writerOnly{w}, src)
	}
	n, err := rf.ReadFrom(io.LimitReader(src, w.length-w.written))
	w.written += n
	if err != nil {
		w.err = err
	}
	return n, err
}

// Flush sends what is buffered.
func (w *response) Flush() {
	if !w.wroteHeader {
		w.WriteHeader(http.StatusOK)
	}
	if w.err == nil && !w.hijacked {
		w.err = w.c.bw.Flush()
	}
}

// FlushError is Flush that says whether it worked.
func (w *response) FlushError() error {
	w.Flush()
	return w.err
}

// Hijack hands the connection over (for an upgraded protocol).
func (w *response) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	if w.hijacked {
		return nil, nil, http.ErrHijacked
	}
	if err := w.c.bw.Flush(); err != nil {
		return nil, nil, err
	}
	w.hijacked = true
	w.c.conn.SetDeadline(time.Time{})
	return w.c.conn, bufio.NewReadWriter(w.c.br, w.c.bw), nil
}

// SetReadDeadline and SetWriteDeadline serve http.ResponseController.
func (w *response) SetReadDeadline(t time.Time) error  { return w.c.conn.SetReadDeadline(t) }
func (w *response) SetWriteDeadline(t time.Time) error { return w.c.conn.SetWriteDeadline(t) }

// finish ends the response: the last chunk and trailers, and a check that
// a declared length was written in full.
func (w *response) finish() {
	if w.err != nil {
		return
	}
	if w.chunked {
		bw := w.c.bw
		bw.WriteString("0\r\n")
		for k, vv := range w.header {
			if name, ok := strings.CutPrefix(k, http.TrailerPrefix); ok {
				for _, v := range vv {
					bw.WriteString(name + ": " + v + "\r\n")
				}
			}
		}
		for _, declared := range w.header["Trailer"] {
			for _, name := range strings.Split(declared, ",") {
				name = http.CanonicalHeaderKey(strings.TrimSpace(name))
				for _, v := range w.header[name] {
					bw.WriteString(name + ": " + v + "\r\n")
				}
			}
		}
		bw.WriteString("\r\n")
		return
	}
	if w.length >= 0 && !w.noBody && w.written < w.length {
		w.closeAfter = true // a short body: the connection is unusable
	}
}

// trackedBody is a request body that notes when it was read to its end,
// and sends 100 Continue before the first read when the client asked.
type trackedBody struct {
	r      io.ReadCloser
	w      *response
	expect bool
	eof    bool
}

func (b *trackedBody) Read(p []byte) (int, error) {
	if b.expect {
		b.expect = false
		if !b.w.wroteHeader {
			b.w.c.bw.WriteString("HTTP/1.1 100 Continue\r\n\r\n")
			b.w.c.bw.Flush()
		}
	}
	n, err := b.r.Read(p)
	if err == io.EOF {
		b.eof = true
	}
	return n, err
}

func (b *trackedBody) Close() error { return b.r.Close() }

// statusLines are the status lines of common statuses, made once.
var statusLines = func() map[int]string {
	m := map[int]string{}
	for _, code := range []int{200, 201, 204, 206, 301, 302, 303, 304, 307, 308, 400, 401, 403, 404, 405, 413, 416, 429, 499, 500, 502, 503, 504} {
		m[code] = "HTTP/1.1 " + strconv.Itoa(code) + " " + http.StatusText(code) + "\r\n"
	}
	return m
}()

func writeStatusLine(bw *bufio.Writer, code int) {
	if line, ok := statusLines[code]; ok {
		bw.WriteString(line)
		return
	}
	text := http.StatusText(code)
	if text == "" {
		text = "status code " + strconv.Itoa(code)
	}
	bw.WriteString("HTTP/1.1 " + strconv.Itoa(code) + " " + text + "\r\n")
}

// writeHeaderFields writes the header fields, less trailers and those no
// server writes itself; values with line breaks are refused by dropping
// the field (as net/http does by replacing them).
func writeHeaderFields(bw *bufio.Writer, h http.Header) {
	for k, vv := range h {
		if k == "Transfer-Encoding" || strings.HasPrefix(k, http.TrailerPrefix) || !httpguts.ValidHeaderFieldName(k) {
			continue
		}
		for _, v := range vv {
			if strings.ContainsAny(v, "\r\n") {
				continue
			}
			bw.WriteString(k)
			bw.WriteString(": ")
			bw.WriteString(v)
			bw.WriteString("\r\n")
		}
	}
}

// writerOnly hides a writer's ReadFrom, so io.Copy uses a buffer.
type writerOnly struct{ io.Writer }

func hasToken(values []string, token string) bool {
	return httpguts.HeaderValuesContainsToken(values, token)
}

// httpDate returns the Date header's value, formatted at most once a
// second.
func httpDate() string {
	now := time.Now().Unix()
	if d := cachedDate.Load(); d != nil && d.unix == now {
		return d.text
	}
	d := &dateText{unix: now, text: time.Unix(now, 0).UTC().Format(http.TimeFormat)}
	cachedDate.Store(d)
	return d.text
}

type dateText struct {
	unix int64
	text string
}

var cachedDate atomic.Pointer[dateText]
