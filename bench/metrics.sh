#!/usr/bin/env bash
# What collecting metrics costs jack server: its CPU share of one core and
# its memory while sampling 200 running containers every 10 s, next to an
# idle daemon and to the same 200 containers with sampling off, in one run.
# Target: under 2% of one core and under 100 MiB.
# Usage: bench/metrics.sh   (JACK_BENCH_WINDOW=2m for a longer window; default 60s)
# Needs about 2 GiB of memory for the 200 containers.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="/usr/local/go/bin:$PATH"
scripts/docker-up
exec go test ./e2e -run '^$' -bench '^BenchmarkMetrics$' -benchtime 1x -count 1 -timeout 30m
