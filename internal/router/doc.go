// Package router is Jack's HTTP edge: it responds to every request for an
// environment's hosts, from the static files of the version that serves or
// by sending it to a healthy web instance (least outstanding requests, with
// retries when an instance can't be reached), and drains instances that
// leave.
//
// It runs as a process of its own (`jack router`, see Main) so that it keeps
// serving when the daemon is killed; the daemon drives it over a unix socket
// in the data folder (see Client, which implements jack.Router) and starts
// and watches it with Ensure and Watchdog. The route table is swapped
// atomically, so a request never sees half a table, and each table is kept
// on disk, so a router restarted while the daemon is down serves on. A new
// router takes the listening sockets of the one it replaces (handoff.go), so
// an upgrade refuses no connection.
//
// Plain HTTP is served by a small HTTP/1.x server of its own (package
// http1), with the Proxy as its handler (plain.go): on Linux its event
// loops respond themselves to what the Proxy serves from memory (static
// files, redirects, error pages), and lend a connection to a goroutine for
// a request that must wait (an upstream, a body, an upgrade). HTTPS is
// net/http's server with HTTP/2, certificates chosen by SNI from files and
// ACME (tls.go). Each request is written to the access log
// (DATA/router-access.ndjson) and counted (GET /metrics on the socket).
package router
