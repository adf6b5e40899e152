package router

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jack-paas/jack"
	"github.com/jack-paas/jack/internal/router/http1"
)

// Proxy is the HTTP edge as an http.Handler: it serves each request from
// its Host's route, from the route's static files or by sending it to the
// upstream with the fewest requests in flight. It also implements
// jack.Router in process: SetRoutes swaps the table atomically and Drain
// waits for upstreams that left it.
//
// Reads of the table are lock-free; the in-flight counters and connection
// pools live outside the table, so a swap neither resets the balancing nor
// loses track of the requests a drain waits for.
type Proxy struct {
	logger   *slog.Logger
	table    atomic.Pointer[table]
	registry *registry
	static   *staticFiles
	buffers  *bufferPool
	metrics  *metrics
	access   *accessLog // nil: no access log
	edge     *edgeTLS   // nil: no HTTPS
	dial     func(ctx context.Context, network, addr string) (net.Conn, error)
	// headerTimeout bounds how long an app may take to begin its response.
	headerTimeout time.Duration

	// closing is set when this router hands its sockets to a new one, or
	// stops: every response then closes its connection, so clients
	// reconnect (to the new router).
	closing atomic.Bool

	mu sync.Mutex // serializes table changes
}

var _ jack.Router = (*Proxy)(nil)

// NewProxy returns a Proxy with an empty table: every host is unknown until
// SetRoutes.
func NewProxy(logger *slog.Logger) *Proxy {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	dialer := &net.Dialer{Timeout: dialTimeout, KeepAlive: 30 * time.Second}
	p := &Proxy{
		logger:  logger,
		static:  newStaticFiles(logger),
		buffers: newBufferPool(),
		metrics: newMetrics(),
		dial:    dialer.DialContext,

		headerTimeout: upstreamHeaderTimeout,
	}
	p.registry = newRegistry(func(addr string) *connPool {
		return newConnPool(addr, func(ctx context.Context, network, addr string) (net.Conn, error) {
			return p.dial(ctx, network, addr)
		})
	})
	p.table.Store(emptyTable())
	return p
}

// SetRoutes replaces the route table. A table older than the current one
// (by Generation) is refused with ECONFLICT; a malformed one with EINVALID.
// Upstreams that leave the table get no new request once it returns.
func (p *Proxy) SetRoutes(ctx context.Context, rt jack.RouteTable) error {
	return p.apply(rt, nil)
}

// apply validates rt, calls persist (if any) and swaps rt in, all under the
// table lock so that what is on disk is what is served.
func (p *Proxy) apply(rt jack.RouteTable, persist func(jack.RouteTable) error) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	current := p.table.Load().source.Generation
	if rt.Generation < current {
		return jack.Errorf(jack.ECONFLICT, "route table generation %d is older than the router's %d; send the current table", rt.Generation, current)
	}
	t, err := compileTable(cloneTable(rt), p.registry, p.static)
	if err != nil {
		return err
	}
	if persist != nil {
		if err := persist(t.source); err != nil {
			return err
		}
	}
	p.table.Store(t)
	p.registry.forget(time.Now())
	p.static.forget(t)
	if p.edge != nil {
		p.edge.tableChanged(t)
	}
	p.logger.Debug("route table set", "generation", rt.Generation, "routes", len(rt.Routes))
	return nil
}

// Routes returns the table being served.
func (p *Proxy) Routes() jack.RouteTable {
	return cloneTable(p.table.Load().source)
}

// Generation returns the generation of the table being served.
func (p *Proxy) Generation() int64 {
	return p.table.Load().source.Generation
}

// InFlight returns how many requests are in flight to upstream id.
func (p *Proxy) InFlight(id string) int {
	if u := p.registry.lookup(id); u != nil {
		return int(u.inflight.Load())
	}
	return 0
}

// Close closes the idle connections to upstreams.
func (p *Proxy) Close() {
	p.registry.closeIdle(time.Now().Add(time.Hour))
}

// ServeHTTP responds to one request: from static files, with a redirect
// to HTTPS, or through an upstream; then logs and counts it.
func (p *Proxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	p.serveWith(w, r, p.table.Load(), nil)
}

// serveWith is ServeHTTP routing with table t. spare, when not nil, is a
// flight to reuse: only for a request it respondsAtOnce to, which leaves
// nothing holding its flight once it returns.
func (p *Proxy) serveWith(w http.ResponseWriter, r *http.Request, t *table, spare *flight) {
	rec := newRecorder(w)
	f := spare
	if f == nil {
		f = new(flight)
	} else {
		*f = flight{}
	}
	f.start, f.host, f.client = time.Now(), canonicalHost(r.Host), clientIP(r.RemoteAddr)
	f.parent = r.Context()
	if f.parent.Done() != nil {
		// net/http's server ends the request's context when its client
		// leaves; the plain server's requests have none (see
		// http1.ClientWatcher).
		stop := context.AfterFunc(f.parent, func() { f.cut(errClientGone) })
		defer stop()
	}
	if p.closing.Load() {
		w.Header()["Connection"] = []string{"close"}
	}
	p.serve(rec, r, f, t)
	p.finish(rec, r, f)
	rec.free()
}

// serve routes the request.
func (p *Proxy) serve(w *recorder, r *http.Request, f *flight, t *table) {
	if r.Method == http.MethodConnect {
		writePage(w, http.StatusMethodNotAllowed, "CONNECT is not supported.\n")
		return
	}
	if p.edge != nil && p.edge.servesChallenge(r, f.host) {
		p.edge.serveChallenge(w, r)
		return
	}
	rt := t.lookup(f.host)
	if rt == nil {
		p.writeNotFound(w, f.host)
		return
	}
	f.route = rt
	f.stats = rt.stats
	f.stats.inflight.Add(1)
	if r.TLS == nil && rt.edge.RedirectHTTPS && p.edge != nil {
		p.edge.redirect(w, r)
		return
	}
	if r.TLS != nil && rt.hsts != "" {
		w.Header()["Strict-Transport-Security"] = []string{rt.hsts}
	}
	if m := rt.staticMount(r.URL.Path); m != nil {
		p.static.serve(w, r, m)
		return
	}
	p.proxy(w, r, f)
}

// respondsAtOnce reports whether serveWith responds to r with table t
// without waiting on anything but memory: a static file held in memory, a
// redirect, an error page. The plain server's event loops respond to those
// themselves and give the rest (an upstream's response, a request body,
// an upgrade, a file read from disk) to a goroutine that may wait.
func (p *Proxy) respondsAtOnce(r *http.Request, t *table) bool {
	if r.Method == http.MethodConnect {
		return true
	}
	if r.Body != nil && r.Body != http.NoBody {
		return false
	}
	host := canonicalHost(r.Host)
	if p.edge != nil && p.edge.servesChallenge(r, host) {
		return false
	}
	rt := t.lookup(host)
	if rt == nil {
		return true
	}
	if r.TLS == nil && rt.edge.RedirectHTTPS && p.edge != nil {
		return true
	}
	if m := rt.staticMount(r.URL.Path); m != nil {
		return p.static.respondsAtOnce(r, m)
	}
	return false
}

// proxy sends the request to an upstream of f's route and the response
// back.
func (p *Proxy) proxy(w *recorder, r *http.Request, f *flight) {
	limit := f.route.edge.Limit()
	if r.ContentLength > limit {
		tooLarge(w, limit)
		return
	}
	mode := requestBodyMode(r)
	if mode != noBody {
		r.Body = http.MaxBytesReader(w, r.Body, limit)
	}
	f.requestID = requestIDOf(r.Header)
	f.bodyless = mode == noBody
	f.idempotent = f.bodyless && (r.Method == http.MethodGet || r.Method == http.MethodHead || r.Method == http.MethodOptions)
	if r.ProtoMajor == 1 {
		if up := upgradeProtocol(r.Header); up != "" {
			f.upgrade = up
		}
	}

	switch p.acquire(f) {
	case noRoute:
		p.writeNotFound(w, f.host)
		return
	case noUpstream:
		w.Header().Set("Retry-After", "5")
		writePage(w, http.StatusServiceUnavailable, displayHost(f.host)+" has no running web instance right now. Try again in a few seconds.\n")
		return
	}
	defer p.release(f)
	if cw, ok := w.w.(http1.ClientWatcher); ok && f.upgrade == "" && mode == noBody {
		stop := cw.WatchClient(func() { f.cut(errClientGone) })
		ex, err := p.roundTrip(r, f, mode)
		stop()
		p.respond(w, r, f, ex, err)
		return
	}
	ex, err := p.roundTrip(r, f, mode)
	p.respond(w, r, f, ex, err)
}

// errClientGone cancels a request whose client closed its connection.
var errClientGone = errors.New("the client closed its connection")

// respond sends the upstream's response (or the error that stood for it)
// to the client.
func (p *Proxy) respond(w *recorder, r *http.Request, f *flight, ex *exchange, err error) {
	if err != nil {
		p.handleError(w, r, f, err)
		return
	}
	if ex.resp.StatusCode == http.StatusSwitchingProtocols && f.upgrade != "" {
		p.serveUpgrade(w, r, f, ex)
		return
	}
	p.copyResponse(w, r, f, ex)
}

// copyResponse writes the upstream's response to the client:
// informational responses as they come, then the head and the body,
// flushed whenever the upstream has nothing more ready, so streams
// (server-sent events, chunked responses) are never held back.
func (p *Proxy) copyResponse(w *recorder, r *http.Request, f *flight, ex *exchange) {
	for ex.resp.StatusCode >= 100 && ex.resp.StatusCode < 200 {
		if ex.resp.StatusCode == http.StatusSwitchingProtocols {
			ex.abandon() // an upgrade the client did not ask for
			p.handleError(w, r, f, errors.New("the app switched protocols unasked"))
			return
		}
		if ex.resp.StatusCode != http.StatusContinue {
			h := w.Header()
			copyResponseHeader(h, ex.resp.Header)
			w.WriteHeader(ex.resp.StatusCode)
			clear(h)
		}
		if err := ex.nextResponse(r); err != nil {
			ex.abandon()
			p.handleError(w, r, f, err)
			return
		}
	}
	ex.headRead()
	w.upstream = f.target.state
	resp := ex.resp
	h := w.Header()
	copyResponseHeader(h, resp.Header)
	if len(resp.Trailer) > 0 {
		names := make([]string, 0, len(resp.Trailer))
		for k := range resp.Trailer {
			names = append(names, k)
		}
		h["Trailer"] = []string{strings.Join(names, ", ")}
	}
	if _, ok := h["X-Request-Id"]; !ok {
		h["X-Request-Id"] = []string{f.requestID}
	}
	w.WriteHeader(resp.StatusCode)

	buf := p.buffers.get()
	complete, err := copyBody(w, resp.Body, ex.conn, buf)
	p.buffers.put(buf)
	if complete {
		for k, vv := range resp.Trailer {
			h[http.TrailerPrefix+k] = vv
		}
	}
	ex.finish(f.target.state.pool, complete)
	if err != nil && !complete {
		if w.clientErr {
			return // the client went away; nothing to tell it
		}
		// The app died mid-response: end the client's connection so it
		// sees a cut response, not a complete short one.
		p.logger.Warn("upstream answer cut", "host", f.host, "upstream", f.target.addr, "path", r.URL.Path, "err", err)
		panic(http.ErrAbortHandler)
	}
}

// copyBody copies a response's body to the client and reports whether it
// reached its end.
func copyBody(w *recorder, body io.ReadCloser, conn *upstreamConn, buf []byte) (bool, error) {
	for {
		n, rerr := body.Read(buf)
		if n > 0 {
			if _, werr := w.Write(buf[:n]); werr != nil {
				w.clientErr = true
				return false, werr
			}
			if rerr == nil && conn.br.Buffered() == 0 {
				w.Flush()
			}
		}
		if rerr == io.EOF {
			return true, nil
		}
		if rerr != nil {
			return false, rerr
		}
	}
}

// copyResponseHeader copies an upstream's response headers, less the
// hop-by-hop ones, sharing their slices (the response is not used again).
func copyResponseHeader(dst, src http.Header) {
	tokens := connectionTokens(src)
	for k, vv := range src {
		if hopHeaders[k] || tokens[k] {
			continue
		}
		dst[k] = vv
	}
}

// upgradeProtocol returns the protocol a request asks to switch to
// (Connection: Upgrade with an Upgrade header), or "".
func upgradeProtocol(h http.Header) string {
	up := h["Upgrade"]
	if len(up) == 0 {
		return ""
	}
	for _, v := range h["Connection"] {
		for _, tok := range strings.Split(v, ",") {
			if strings.EqualFold(strings.TrimSpace(tok), "upgrade") {
				return up[0]
			}
		}
	}
	return ""
}

// errDrainTimeout cancels the requests still in flight when a drain times
// out.
var errDrainTimeout = errors.New("the instance was drained before it answered")

// handleError responds to a request no upstream responded to.
func (p *Proxy) handleError(w *recorder, r *http.Request, f *flight, err error) {
	if f.target != nil {
		w.upstream = f.target.state
	}
	var mbe *http.MaxBytesError
	var be *bodyError
	switch {
	case errors.As(err, &mbe):
		tooLarge(w, mbe.Limit)
	case errors.Is(f.cutCause(), errDrainTimeout):
		p.logger.Warn("request cut at drain timeout", "host", f.host, "path", r.URL.Path)
		writePage(w, http.StatusBadGateway, "The instance serving "+displayHost(f.host)+" was stopped before it answered. Try again.\n")
	case f.Err() != nil:
		// The client went away; nobody reads this, but the log says so.
		w.status = 499
	case errors.As(err, &be):
		w.status = 400
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			writePage(w, http.StatusRequestTimeout, "The request body did not arrive in time.\n")
		} else {
			writePage(w, http.StatusBadRequest, "The request body could not be read: "+be.err.Error()+"\n")
		}
	case errors.Is(err, errUpstreamTimeout):
		p.logger.Warn("upstream timed out", "host", f.host, "upstream", f.target.addr, "path", r.URL.Path)
		writePage(w, http.StatusGatewayTimeout, "The app at "+displayHost(f.host)+" did not answer within "+p.headerTimeout.String()+".\n")
	default:
		addr := ""
		if f.target != nil {
			addr = f.target.addr
		}
		p.logger.Warn("upstream failed", "host", f.host, "upstream", addr, "path", r.URL.Path, "err", err)
		writePage(w, http.StatusBadGateway, "The app at "+displayHost(f.host)+" did not answer. Try again in a moment.\n")
	}
}

// tooLarge responds 413 and closes the connection, so the server does not
// wait to read the rest of a body nobody wants.
func tooLarge(w http.ResponseWriter, limit int64) {
	w.Header()["Connection"] = []string{"close"}
	writePage(w, http.StatusRequestEntityTooLarge, "The request body is larger than the "+sizeText(limit)+" this app accepts.\n")
}

func (p *Proxy) writeNotFound(w http.ResponseWriter, host string) {
	writePage(w, http.StatusNotFound, "No app is served at "+displayHost(host)+". Check the domain or `jack envs`.\n")
}

func displayHost(host string) string {
	if host == "" {
		return "this address (no Host header)"
	}
	return host
}

// writePage writes one of the router's own short plain-text responses.
func writePage(w http.ResponseWriter, status int, body string) {
	h := w.Header()
	h["Content-Type"] = []string{"text/plain; charset=utf-8"}
	h["X-Content-Type-Options"] = []string{"nosniff"}
	h["Cache-Control"] = []string{"no-store"}
	w.WriteHeader(status)
	io.WriteString(w, body)
}

// sizeText says a byte count the way users write it: 100 MiB, 512 KiB.
func sizeText(n int64) string {
	switch {
	case n >= 1<<30 && n%(1<<30) == 0:
		return itoa(n>>30) + " GiB"
	case n >= 1<<20 && n%(1<<20) == 0:
		return itoa(n>>20) + " MiB"
	case n >= 1<<10 && n%(1<<10) == 0:
		return itoa(n>>10) + " KiB"
	}
	return itoa(n) + " bytes"
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// bufferPool lends the 32 KiB buffers bodies are copied through.
type bufferPool struct{ pool sync.Pool }

func newBufferPool() *bufferPool {
	return &bufferPool{pool: sync.Pool{New: func() any { return new([32 << 10]byte) }}}
}

func (b *bufferPool) get() []byte { return b.pool.Get().(*[32 << 10]byte)[:] }
func (b *bufferPool) put(buf []byte) {
	if cap(buf) == 32<<10 {
		b.pool.Put((*[32 << 10]byte)(buf[:32<<10]))
	}
}

// cloneTable copies a table deeply enough that neither side's later changes
// show in the other.
func cloneTable(rt jack.RouteTable) jack.RouteTable {
	out := jack.RouteTable{Generation: rt.Generation, Routes: make([]jack.Route, len(rt.Routes))}
	for i, r := range rt.Routes {
		out.Routes[i] = jack.Route{
			Env:       r.Env,
			Hosts:     append([]string(nil), r.Hosts...),
			Upstreams: append([]jack.Upstream(nil), r.Upstreams...),
			Static:    append([]jack.StaticMount(nil), r.Static...),
			Edge:      r.Edge,
		}
	}
	return out
}
