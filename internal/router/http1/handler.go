package http1

import "net/http"

// Handler responds to the requests a Server reads: it is the routing. A
// goroutine that serves a connection has ServeHTTP respond, which may wait
// (for an upstream, a request body, a file read from disk); an event loop
// has its own LoopHandler respond to what needs nothing but memory.
type Handler interface {
	// ServeHTTP responds to req, on the connection's goroutine.
	ServeHTTP(w http.ResponseWriter, req *http.Request)
	// RespondsAtOnce reports whether ServeHTTP responds to req without
	// waiting on anything but memory. The server asks after a goroutine
	// responded: if an event loop could have, it gets the connection back
	// at once, since it serves such requests better.
	RespondsAtOnce(req *http.Request) bool
	// NewLoopHandler returns what one event loop responds with; each loop
	// asks once.
	NewLoopHandler() LoopHandler
}

// LoopHandler responds, on one event loop, to the requests that need
// nothing but memory: a file held in memory, a redirect, an error page.
// Only the loop's goroutine calls it, one request at a time.
type LoopHandler interface {
	// RespondsAtOnce reports whether ServeHTTP responds to req without
	// waiting on anything but memory. When it does not, the loop lends the
	// connection to a goroutine, which has the Handler respond.
	RespondsAtOnce(req *http.Request) bool
	// ServeHTTP responds to the request RespondsAtOnce just said yes to,
	// as it decided then: the handler may keep what it decided with (a
	// routing table) until this call, so that the response is the one
	// that does not wait.
	ServeHTTP(w http.ResponseWriter, req *http.Request)
}

// ClientWatcher is what a Server's ResponseWriters offer a handler that
// waits on someone else (an upstream) before it responds: word when the
// client goes away meanwhile, so that the handler can stop what it does
// for nobody. net/http's server ends the request's context for this; a
// Server's requests have none, to spare each request its cost.
type ClientWatcher interface {
	// WatchClient calls gone if the client of a bodyless request closes
	// its connection before stop is called; it starts looking after
	// WatchAfter. The handler calls stop before it responds.
	WatchClient(gone func()) (stop func())
}
