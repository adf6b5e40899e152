#!/usr/bin/env bash
# Log collection against the engine's own rate: lines per second a plain
# `docker logs -f` gets of a container printing numbered lines as fast as it
# can, lines per second Jack stores of the same app (every line once), lines
# per second through a syslog+tcp drain to a receiver on loopback (every
# line accounted for), the follow latency, and the daemon's peak memory.
# Usage: bench/logs.sh   (JACK_BENCH_LINES=N for another number of lines;
# default 1000000)
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="/usr/local/go/bin:$PATH"
scripts/docker-up
exec go test ./e2e -run '^$' -bench '^BenchmarkLogs$' -benchtime 1x -count 1 -timeout 20m
