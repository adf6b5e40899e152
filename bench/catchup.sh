#!/usr/bin/env bash
# How fast the router catches up when jack server comes back: the daemon is
# SIGKILLed, one of two instances is killed while it is down (the router
# serves on from its last table, retrying the dead instance's requests on
# the other), and the time from the daemon's start to the router serving a
# table without the dead instance is measured, JACK_BENCH_ROUNDS times
# (default 7), on a quiet machine and while 4 clients send requests.
# Target (issue 3): 100 ms.
#
# Usage: bench/catchup.sh
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="/usr/local/go/bin:$PATH"
scripts/docker-up
exec go test ./e2e -run '^$' -bench '^BenchmarkRouterCatchUp$' -benchtime 1x -count 1 -timeout 20m
