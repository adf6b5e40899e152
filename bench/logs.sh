#!/usr/bin/env bash
# Log collection against the container's own writing rate: a worker prints
# numbered lines as fast as it can; the figure is the rate at which its
# lines become readable through `jack logs -n 1` with a syslog+tcp drain on,
# against the same container alone with nothing reading it (target 0.9x),
# and again with a CPU hog beside it (target 0.7x of the unloaded figure),
# in alternating rounds; every line stored and drained once, the follow
# latency and the daemon's peak memory. bench/README.md has the figures.
# Usage: bench/logs.sh   (JACK_BENCH_LINES, JACK_BENCH_PAD, JACK_BENCH_ROUNDS;
# default 1000000 lines of 107 bytes, 3 rounds; JACK_LOG_READER=api to
# measure the engine's log API instead of its files)
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="/usr/local/go/bin:$PATH"
scripts/docker-up
exec go test ./e2e -run '^$' -bench '^BenchmarkLogs$' -benchtime 1x -count 1 -timeout 30m
