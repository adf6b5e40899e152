// Package metrics samples what Jack's instances use and what the router
// counts, keeps minute rollups in the store, judges each environment's
// health with its causes in words, and hands the numbers on: a Prometheus
// collector for /metrics and a StatsD/DogStatsD pusher.
//
// A Monitor does it all in one loop (every 10 s by default): it asks the
// orchestrator for each environment's instances, the runtime for each
// instance's counters (one failing container never stops the others), the
// router for its traffic counters, then evaluates health and reports
// transitions. The rules are in health.go and docs/health.md.
package metrics
