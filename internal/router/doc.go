// Package router is Jack's HTTP edge: a reverse proxy that sends each
// request to a healthy web instance of the environment its Host names.
//
// It runs as a process of its own (`jack router`, see Run) so that it keeps
// serving when the daemon is killed; the daemon drives it over a unix socket
// in the data folder (see Client, which implements jack.Router) and starts
// and watches it with Ensure and Watchdog. The route table is swapped
// atomically, so a request never sees half a table, and each table is kept
// on disk, so a router restarted while the daemon is down serves on.
package router
