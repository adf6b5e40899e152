package router

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httputil"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jack-paas/jack"
)

// Proxy is the HTTP edge as an http.Handler: it sends each request to the
// upstream of its Host's route with the fewest requests in flight. It also
// implements jack.Router in process: SetRoutes swaps the table atomically
// and Drain waits for upstreams that left it.
//
// Reads of the table are lock-free; the in-flight counters live outside
// the table, so a swap neither resets the balancing nor loses track of the
// requests a drain waits for.
type Proxy struct {
	logger    *slog.Logger
	table     atomic.Pointer[table]
	registry  *registry
	transport *http.Transport
	proxy     *httputil.ReverseProxy

	mu sync.Mutex // serializes table changes
}

var _ jack.Router = (*Proxy)(nil)

// NewProxy returns a Proxy with an empty table: every host is unknown until
// SetRoutes.
func NewProxy(logger *slog.Logger) *Proxy {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	p := &Proxy{logger: logger, registry: newRegistry(), transport: newTransport()}
	p.table.Store(emptyTable())
	p.proxy = &httputil.ReverseProxy{
		Rewrite:       p.rewrite,
		Transport:     &retryTransport{proxy: p, base: p.transport},
		FlushInterval: -1,
		BufferPool:    newBufferPool(),
		ErrorHandler:  p.handleError,
		ErrorLog:      slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
	return p
}

// newTransport returns the one transport every upstream shares: many
// keep-alive connections per upstream, a short dial timeout (a dead
// instance is found fast and the request retried elsewhere), no proxy from
// the environment and no transparent compression.
func newTransport() *http.Transport {
	dialer := &net.Dialer{Timeout: 2 * time.Second, KeepAlive: 30 * time.Second}
	return &http.Transport{
		Proxy:                 nil,
		DialContext:           dialer.DialContext,
		MaxIdleConns:          4096,
		MaxIdleConnsPerHost:   256,
		IdleConnTimeout:       90 * time.Second,
		ExpectContinueTimeout: time.Second,
		DisableCompression:    true,
		ReadBufferSize:        16 << 10,
		WriteBufferSize:       16 << 10,
	}
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
	t, err := compileTable(cloneTable(rt), p.registry)
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
	p.transport.CloseIdleConnections()
}

// ServeHTTP sends r to an upstream of its Host's route.
func (p *Proxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method == http.MethodConnect {
		writePage(w, http.StatusMethodNotAllowed, "CONNECT is not supported.\n")
		return
	}
	f := &flight{host: canonicalHost(r.Host), bodyless: r.ContentLength == 0}
	f.idempotent = f.bodyless && (r.Method == http.MethodGet || r.Method == http.MethodHead || r.Method == http.MethodOptions)
	f.Context, f.cancel = context.WithCancelCause(r.Context())
	defer f.cancel(nil)

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
	p.proxy.ServeHTTP(w, r.WithContext(f))
}

// rewrite points the outbound request at the flight's upstream and sets the
// forwarding headers.
func (p *Proxy) rewrite(pr *httputil.ProxyRequest) {
	f := flightOf(pr.In.Context())
	noteUpstream(pr.In.Context(), f) // stats.go
	pr.Out.URL.Scheme = "http"
	pr.Out.URL.Host = f.target.addr
	// Pass the query on as the client sent it: the app decides what it means.
	pr.Out.URL.RawQuery = pr.In.URL.RawQuery
	if prior := pr.In.Header["X-Forwarded-For"]; len(prior) > 0 {
		pr.Out.Header["X-Forwarded-For"] = prior
	}
	pr.SetXForwarded()
	if pr.Out.Header.Get("X-Request-Id") == "" {
		pr.Out.Header["X-Request-Id"] = []string{newRequestID()}
	}
}

// errDrainTimeout cancels the requests still in flight when a drain times
// out.
var errDrainTimeout = errors.New("the instance was drained before it answered")

// handleError answers a request whose upstream failed (after retries).
func (p *Proxy) handleError(w http.ResponseWriter, r *http.Request, err error) {
	ctx := r.Context()
	host := canonicalHost(r.Host)
	switch {
	case errors.Is(context.Cause(ctx), errDrainTimeout):
		p.logger.Warn("request cut at drain timeout", "host", host, "path", r.URL.Path)
		writePage(w, http.StatusBadGateway, "The instance serving "+displayHost(host)+" was stopped before it answered. Try again.\n")
	case ctx.Err() != nil:
		// The client went away; nobody reads this, but the status says so.
		w.WriteHeader(499)
	default:
		addr := ""
		if f := flightOf(ctx); f != nil && f.target != nil {
			addr = f.target.addr
		}
		p.logger.Warn("upstream failed", "host", host, "upstream", addr, "path", r.URL.Path, "err", err)
		writePage(w, http.StatusBadGateway, "The app at "+displayHost(host)+" did not answer. Try again in a moment.\n")
	}
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

// writePage writes one of the router's own short plain-text answers.
func writePage(w http.ResponseWriter, status int, body string) {
	h := w.Header()
	h.Set("Content-Type", "text/plain; charset=utf-8")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	io.WriteString(w, body)
}

// bufferPool lends the 32 KiB buffers ReverseProxy copies bodies through.
type bufferPool struct{ pool sync.Pool }

func newBufferPool() *bufferPool {
	return &bufferPool{pool: sync.Pool{New: func() any { b := make([]byte, 32<<10); return &b }}}
}

func (b *bufferPool) Get() []byte    { return *b.pool.Get().(*[]byte) }
func (b *bufferPool) Put(buf []byte) { b.pool.Put(&buf) }

// cloneTable copies a table deeply enough that neither side's later changes
// show in the other.
func cloneTable(rt jack.RouteTable) jack.RouteTable {
	out := jack.RouteTable{Generation: rt.Generation, Routes: make([]jack.Route, len(rt.Routes))}
	for i, r := range rt.Routes {
		out.Routes[i] = jack.Route{
			Env:       r.Env,
			Hosts:     append([]string(nil), r.Hosts...),
			Upstreams: append([]jack.Upstream(nil), r.Upstreams...),
		}
	}
	return out
}
