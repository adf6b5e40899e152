#!/usr/bin/env bash
# Prints the Debian mirror this machine's apt uses, for debootstrap to
# fetch SUITE from (base-image.sh): the URI of the first enabled `deb`
# source, in the order apt reads them (sources.list, then sources.list.d/
# *.list and *.sources by name), whose suites include SUITE or, on Debian,
# the machine's own release (any Debian mirror carries both). Security,
# updates and backports suites do not count, nor do other vendors' sources.
# Prints http://deb.debian.org/debian when no source matches, so that a
# machine without a Debian mirror of its own uses Debian's.
# Usage: e2e/django/debian-mirror.sh SUITE [APT_DIR]   (default: /etc/apt)
set -euo pipefail
suite="$1"
apt_dir="${2:-/etc/apt}"
fallback=http://deb.debian.org/debian

suites="$suite"
if [ -r /etc/os-release ]; then
  # shellcheck disable=SC1091
  own=$(. /etc/os-release && [ "${ID:-}" = debian ] && echo "${VERSION_CODENAME:-}") || own=
  [ -n "$own" ] && suites="$suites $own"
fi

# one_line_uris prints "URI SUITE" for each `deb` line of a one-line-style
# file, its [options] dropped.
one_line_uris() {
  awk '{ sub(/#.*/, ""); gsub(/\[[^]]*\]/, "") }
       $1 == "deb" && NF >= 3 { print $2, $3 }' "$1"
}

# deb822_uris prints "URI SUITE" for each suite of each enabled stanza of
# type deb in a deb822-style file (the first of its URIs).
deb822_uris() {
  awk 'BEGIN { RS = ""; FS = "\n" }
       {
         types = ""; uris = ""; suites = ""; enabled = "yes"
         for (i = 1; i <= NF; i++) {
           if ($i ~ /^#/) continue
           key = tolower($i); sub(/:.*/, "", key)
           value = $i; sub(/^[^:]*:[ \t]*/, "", value)
           if (key == "types") types = value
           else if (key == "uris") uris = value
           else if (key == "suites") suites = value
           else if (key == "enabled") enabled = tolower(value)
         }
         if (enabled == "no" || (" " types " ") !~ / deb / || uris == "") next
         split(uris, u, /[ \t]+/)
         n = split(suites, s, /[ \t]+/)
         for (j = 1; j <= n; j++) print u[1], s[j]
       }' "$1"
}

# sources prints "URI SUITE" for every source, in apt's order.
sources() {
  [ -r "$apt_dir/sources.list" ] && one_line_uris "$apt_dir/sources.list"
  for f in "$apt_dir"/sources.list.d/*; do
    [ -r "$f" ] || continue
    case "$f" in
      *.list) one_line_uris "$f" ;;
      *.sources) deb822_uris "$f" ;;
    esac
  done
}

while read -r uri found; do
  for want in $suites; do
    if [ "$found" = "$want" ]; then
      echo "${uri%/}"
      exit 0
    fi
  done
done < <(sources)
echo "$fallback"
