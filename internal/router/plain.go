package router

import (
	"log/slog"
	"net/http"
	"os"
	"runtime"

	"github.com/jack-paas/jack/internal/router/http1"
)

// loopsEnv names the variable that sets how many event loops the plain
// server runs (http1.LoopCount).
const loopsEnv = "JACK_ROUTER_LOOPS"

// newPlainServer is the server of plain HTTP in front of p: HTTP/1.x with
// the edge's timeouts, and event loops (unless JACK_ROUTER_LOOPS says
// none) that respond themselves to what p serves from memory.
func newPlainServer(p *Proxy, logger *slog.Logger) *http1.Server {
	return &http1.Server{
		Handler:           plainHandler{p},
		Logger:            logger,
		ReadHeaderTimeout: readHeaderTimeout,
		IdleTimeout:       idleTimeout,
		MaxHeaderBytes:    maxHeaderBytes,
		EventLoops:        http1.LoopCount(runtime.GOMAXPROCS(0), os.Getenv(loopsEnv)),
	}
}

// plainHandler is the Proxy as the plain server's handler: a goroutine
// has it serve any request, an event loop those it responds to from
// memory.
type plainHandler struct{ p *Proxy }

// ServeHTTP routes r with the table of the moment, on a goroutine.
func (h plainHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h.p.serveWith(w, r, h.p.table.Load(), nil)
}

// RespondsAtOnce reports whether the Proxy serves r from memory.
func (h plainHandler) RespondsAtOnce(r *http.Request) bool {
	return h.p.respondsAtOnce(r, h.p.table.Load())
}

// NewLoopHandler returns the handler of one event loop.
func (h plainHandler) NewLoopHandler() http1.LoopHandler {
	return &loopHandler{p: h.p}
}

// loopHandler is the Proxy as one event loop's handler. It serves a
// request with the table it decided with, so that the response is one
// that does not wait whatever table came meanwhile, and reuses one flight
// for every request: nothing holds the flight of a response given at once
// after it.
type loopHandler struct {
	p      *Proxy
	table  *table // what RespondsAtOnce decided with, until ServeHTTP
	flight flight
}

// RespondsAtOnce reports whether the Proxy serves r from memory with the
// table of the moment, and keeps that table for ServeHTTP.
func (h *loopHandler) RespondsAtOnce(r *http.Request) bool {
	h.table = h.p.table.Load()
	if !h.p.respondsAtOnce(r, h.table) {
		h.table = nil
		return false
	}
	return true
}

// ServeHTTP routes r with the table RespondsAtOnce decided with, reusing
// the loop's flight.
func (h *loopHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	t := h.table
	h.table = nil // an old table is not kept while the loop waits
	h.p.serveWith(w, r, t, &h.flight)
}
