#!/usr/bin/env bash
# Builds the Debian bookworm base image of the Django end-to-end test, with
# python3-django and gunicorn from Debian's packages, once per machine:
# debootstrap (minbase, only the packages named) into a temporary folder,
# then `docker import`. The image is tagged jack-test/django-base:TAG and
# skipped when present. Packages are cached under /var/cache/jack-test, so
# a rebuild downloads nothing. Needs root, debootstrap (installed from
# Debian when missing) and a Debian mirror: JACK_DEBIAN_MIRROR, else the one
# this machine's apt uses (debian-mirror.sh), else deb.debian.org.
# Usage: e2e/django/base-image.sh [TAG]   (default: bookworm-1)
set -euo pipefail
tag="jack-test/django-base:${1:-bookworm-1}"
suite=bookworm
if docker image inspect "$tag" >/dev/null 2>&1; then
  exit 0
fi
mirror="${JACK_DEBIAN_MIRROR:-$(bash "$(dirname "$0")/debian-mirror.sh" "$suite")}"
cache=/var/cache/jack-test/debootstrap
lock=/var/cache/jack-test/django-base.lock
mkdir -p "$cache"
exec 9>"$lock"
flock 9 # one build per machine at a time; the next finds the image
if docker image inspect "$tag" >/dev/null 2>&1; then
  exit 0
fi
if ! command -v debootstrap >/dev/null; then
  apt-get install -y debootstrap >/dev/null 2>&1 || { apt-get update >/dev/null && apt-get install -y debootstrap >/dev/null; }
fi
root=$(mktemp -d /var/tmp/jack-django-base.XXXXXX)
trap 'rm -rf "$root"' EXIT
debootstrap --variant=minbase --include=python3-django,gunicorn --cache-dir="$cache" \
  "$suite" "$root" "$mirror" >"$root.log" 2>&1 || { tail -30 "$root.log" >&2; rm -f "$root.log"; exit 1; }
rm -f "$root.log"
# What an image needs of a root file system, not what a boot needs.
rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/* "$root"/usr/share/doc "$root"/usr/share/man "$root"/usr/share/locale
tar --numeric-owner -C "$root" -c . | docker import \
  --change 'ENV PYTHONUNBUFFERED=1 LANG=C.UTF-8' \
  --change 'LABEL dev.jack.test=true' \
  - "$tag" >/dev/null
echo "built $tag" >&2
