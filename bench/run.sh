#!/usr/bin/env bash
# Time from `jack run APP/ENV -- true` to its exit, next to
# `docker run --rm IMAGE true` of the same image, in one run (target:
# within 1.3x). Builds the Debian test image first if it is missing.
# Usage: bench/run.sh   (JACK_BENCH_ROUNDS=N for more rounds; default 15)
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="/usr/local/go/bin:$PATH"
scripts/docker-up
exec go test ./e2e -run '^$' -bench '^BenchmarkRun$' -benchtime 1x -count 1 -timeout 20m
