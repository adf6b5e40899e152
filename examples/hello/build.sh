#!/usr/bin/env bash
# Builds the hello app into a Docker image: ./build.sh [TAG] (default hello:v1).
# The binary is built with this machine's Go, so nothing is pulled.
set -euo pipefail
cd "$(dirname "$0")"
tag=${1:-hello:v1}

CGO_ENABLED=0 GOOS=linux go build -trimpath -o hello .

# Without buildx the docker CLI can't use BuildKit; the classic builder
# handles this Dockerfile on any engine.
if ! docker buildx version >/dev/null 2>&1; then
  export DOCKER_BUILDKIT=0
fi
docker build -t "$tag" .
