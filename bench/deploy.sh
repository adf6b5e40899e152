#!/usr/bin/env bash
# Deploy and rollback time against the `docker run` floor, requests failed
# during 20 deploys under load, and the daemon's memory with 10 apps.
# Usage: bench/deploy.sh   (JACK_BENCH_ROUNDS=N for more rounds; default 7)
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="/usr/local/go/bin:$PATH"
scripts/docker-up
exec go test ./e2e -run '^$' -bench '^BenchmarkDeploy$' -benchtime 1x -count 1 -timeout 20m
