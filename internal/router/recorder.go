package router

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"sync"
	"time"
)

// recorder is the ResponseWriter the router's handlers write through: it
// notes the status and the bytes sent for the access log and the counters.
// It passes Flush, Hijack (through Unwrap) and ReadFrom (for sendfile) on.
type recorder struct {
	w           http.ResponseWriter
	status      int
	bytes       int64
	wroteHeader bool
	clientErr   bool           // a write to the client failed
	upstream    *upstreamState // the upstream that responded (or failed), if any
}

var recorderPool = sync.Pool{New: func() any { return new(recorder) }}

func newRecorder(w http.ResponseWriter) *recorder {
	rec := recorderPool.Get().(*recorder)
	*rec = recorder{w: w}
	return rec
}

// free returns the recorder for reuse; it must not be used after.
func (r *recorder) free() {
	*r = recorder{}
	recorderPool.Put(r)
}

func (r *recorder) Header() http.Header { return r.w.Header() }

// WriteHeader sends the head; informational statuses pass through without
// counting as the response's status.
func (r *recorder) WriteHeader(code int) {
	if r.wroteHeader {
		return
	}
	if code >= 200 || code == http.StatusSwitchingProtocols {
		r.wroteHeader = true
		r.status = code
	}
	r.w.WriteHeader(code)
}

func (r *recorder) Write(b []byte) (int, error) {
	if !r.wroteHeader {
		r.WriteHeader(http.StatusOK)
	}
	n, err := r.w.Write(b)
	r.bytes += int64(n)
	if err != nil {
		r.clientErr = true
	}
	return n, err
}

// ReadFrom lets http.ServeContent hand a file to the connection's
// ReadFrom, which uses sendfile.
func (r *recorder) ReadFrom(src io.Reader) (int64, error) {
	if !r.wroteHeader {
		r.WriteHeader(http.StatusOK)
	}
	var n int64
	var err error
	if rf, ok := r.w.(io.ReaderFrom); ok {
		n, err = rf.ReadFrom(src)
	} else {
		n, err = io.Copy(writerOnly{r.w}, src)
	}
	r.bytes += n
	return n, err
}

// Flush sends what is buffered to the client.
func (r *recorder) Flush() {
	if f, ok := r.w.(http.Flusher); ok {
		f.Flush()
	}
}

// Unwrap lets http.ResponseController reach the server's writer.
func (r *recorder) Unwrap() http.ResponseWriter { return r.w }

// hijack takes over the client's connection for an upgraded protocol.
func (r *recorder) hijack() (net.Conn, *bufio.ReadWriter, error) {
	return http.NewResponseController(r.w).Hijack()
}

// finish logs and counts a request once it has its response.
func (p *Proxy) finish(rec *recorder, r *http.Request, f *flight) {
	status := rec.status
	if status == 0 {
		status = http.StatusOK
		if !rec.wroteHeader && rec.bytes == 0 {
			status = 499 // nothing was sent: the client left first
		}
	}
	elapsed := time.Since(f.start)
	if f.stats != nil {
		f.stats.inflight.Add(-1)
	}
	env, instance := "", ""
	if f.route != nil {
		env = f.route.env
	}
	if rec.upstream != nil {
		instance = rec.upstream.id
	}
	p.metrics.observe(f.route, rec.upstream, status, rec.bytes, elapsed)
	if p.access != nil {
		p.access.add(accessRecord{
			Time: f.start, Env: env, Host: f.host, Method: r.Method, Path: r.URL.Path,
			Status: status, Bytes: rec.bytes, Duration: elapsed, Instance: instance,
			RequestID: f.requestID, Client: f.client,
		})
	}
}
