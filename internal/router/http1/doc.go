// Package http1 speaks HTTP/1.x on the router's plain connections: a
// server of its own (Server), and the reader of the responses that come
// back from upstreams (ResponseReader).
//
// The server keeps what a proxy needs of net/http's (header and idle
// timeouts, a head size limit, keep-alive and its end, Expect:
// 100-continue, chunked responses and trailers, hijacking for upgrades)
// and leaves out what costs a proxy time: a goroutine per request reading
// ahead, a context per request, sorting headers, three layers of buffers.
// The common request heads and response heads are parsed without
// net/http's allocations; every other one goes to net/http's parser, so
// that what is accepted and refused is net/http's.
//
// On Linux, event loops (loop_linux.go) hold the connections between
// requests and respond themselves to what needs nothing but memory (a file
// held in memory, a redirect, an error page), and lend a connection to a
// goroutine for a request that must wait (an upstream, a body, an upgrade).
// Which response a request gets is the Handler's business: the server asks
// it whether it responds at once, and has it respond.
package http1
