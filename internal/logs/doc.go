// Package logs owns what Jack keeps of what runs: the collection of
// containers' output (and of the router's access log and the platform's
// events) into one log per environment, its storage in segment files, the
// reading and following of it for `jack logs` and the API, and the drains
// that forward it to syslog and HTTPS endpoints.
//
// A line's path: the engine stores what a container writes; the Collector
// keeps a follower per container, which opens the container's output at
// its cursor through a jack.LogSource (internal/docker reads the engine's
// log files directly when it can, logfiles_linux.go, else its log API) and
// appends each batch of lines to the environment's envLog with one write,
// counting them in the container's cursor (cursor.go) so that no restart
// stores a line twice or skips one. The append lands in the active segment
// (segment.go), readable at once; the Store seals full segments into
// compressed, indexed blocks and deletes what retention no longer keeps.
// Each append wakes the readers: Store.Read iterates from a position,
// skipping blocks by time and process, and with Follow waits for the next
// append; each drain's runner (Drains, drainrunner.go) reads from a cursor
// of its own, kept on disk, and hands batches to a drain.Sender, so that a
// slow endpoint delays neither collection nor the other drains.
package logs
