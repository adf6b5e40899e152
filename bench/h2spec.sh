#!/usr/bin/env bash
# HTTP/2 conformance of the router's TLS listener next to nginx's, in one
# run: h2spec (a tool dependency of the module: `go tool h2spec`, RFC 7540
# and HPACK, 145 cases) against `jack router` and against a minimal nginx
# with http2, both on loopback with the same self-signed certificate for
# localhost, both proxying to one Go origin (bench/origin). It prints
# passed, failed and skipped cases by section for each, and the cases each
# fails, by h2spec's case ID (`go tool h2spec http2/6.5.3/1 -t -k -h
# localhost -p PORT` runs one again).
#
# h2spec is pointed at localhost, not 127.0.0.1: it sends its host as SNI
# only when it is a name, and the router picks its certificate by SNI (it
# refuses a handshake without one). H2SPEC_TIMEOUT is h2spec's wait for a
# frame, in seconds (default 2, h2spec's own). internal/router's
# TestTheTLSListenerPassesH2spec holds the router's result in CI; see
# bench/README.md for why the remaining failures are left.
#
# Usage: bench/h2spec.sh      (installs nginx and openssl with apt-get when
#                              missing; needs root for that)
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="/usr/local/go/bin:$PATH:/usr/sbin"
TIMEOUT="${H2SPEC_TIMEOUT:-2}"

need=()
for tool in nginx:nginx openssl:openssl; do
	command -v "${tool%%:*}" >/dev/null || need+=("${tool##*:}")
done
if [ "${#need[@]}" -gt 0 ]; then
	echo "installing ${need[*]}"
	apt-get update -qq >/dev/null
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
fi

work="$(mktemp -d /tmp/jack-bench-h2spec.XXXXXX)"
pids=()
cleanup() {
	for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
	[ -f "$work/nginx.pid" ] && kill "$(cat "$work/nginx.pid")" 2>/dev/null || true
	wait 2>/dev/null || true
	rm -rf "$work"
}
trap cleanup EXIT

go build -o "$work/jack" ./cmd/jack
go build -o "$work/origin" ./bench/origin
go build -o "$work/h2spec" github.com/summerwind/h2spec/cmd/h2spec

ORIGIN=127.0.0.1:19500 NGINX_TLS=127.0.0.1:19501 JACK=127.0.0.1:19502 JACK_TLS=127.0.0.1:19503
mkdir -p "$work/tls" "$work/data/certs"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 -subj /CN=localhost \
	-addext subjectAltName=DNS:localhost -keyout "$work/tls/localhost.key" -out "$work/tls/localhost.crt" 2>/dev/null
cp "$work/tls/localhost.crt" "$work/tls/localhost.key" "$work/data/certs/"

"$work/origin" -addr "$ORIGIN" & pids+=($!)

cat >"$work/nginx.conf" <<EOF
worker_processes 1;
pid $work/nginx.pid;
error_log $work/nginx-error.log;
events { worker_connections 1024; }
http {
  access_log off;
  server {
    listen $NGINX_TLS ssl http2;
    ssl_certificate $work/tls/localhost.crt;
    ssl_certificate_key $work/tls/localhost.key;
    location / { proxy_pass http://$ORIGIN; proxy_http_version 1.1; proxy_set_header Connection ""; }
  }
}
EOF
nginx -c "$work/nginx.conf" -p "$work"

"$work/jack" router --data "$work/data" --http "$JACK" --https "$JACK_TLS" --acme-ca off >"$work/router.log" 2>&1 & pids+=($!)
for _ in $(seq 100); do [ -S "$work/data/router.sock" ] && break; sleep 0.05; done
curl -sf --unix-socket "$work/data/router.sock" -X PUT http://router/routes -d "{\"generation\":1,\"routes\":[{\"env\":\"bench/prod\",
  \"hosts\":[\"localhost\"],\"upstreams\":[{\"id\":\"origin\",\"addr\":\"$ORIGIN\"}]}]}"

for addr in "$NGINX_TLS" "$JACK_TLS"; do
	url="https://localhost:${addr##*:}/"
	for _ in $(seq 100); do curl -skf --http2 -o /dev/null "$url" && break; sleep 0.05; done
	[ "$(curl -sk --http2 -o /dev/null -w '%{http_version} %{http_code}' "$url")" = "2 200" ] ||
		{ echo "$addr does not answer 200 over HTTP/2" >&2; exit 1; }
done

# h2spec NAME ADDR runs h2spec against ADDR; its JUnit report is
# $work/NAME.xml and its output $work/NAME.txt.
h2spec() {
	"$work/h2spec" -t -k -h localhost -p "${2##*:}" -o "$TIMEOUT" -j "$work/$1.xml" >"$work/$1.txt" 2>&1 || true
	[ -f "$work/$1.xml" ] || { echo "h2spec against $1 wrote no report:" >&2; tail -5 "$work/$1.txt" >&2; exit 1; }
}
h2spec nginx "$NGINX_TLS"
h2spec jack "$JACK_TLS"

# cases NAME prints a line per case of NAME's report: "ID OUTCOME
# DESCRIPTION", the ID being h2spec's (a section's cases are numbered from
# 1). h2spec reports a failed case as an <error>.
cases() {
	awk '
		/<testsuite / { match($0, /package="[^"]*"/); pkg = substr($0, RSTART + 9, RLENGTH - 10); n = 0 }
		/<testcase / {
			n++; match($0, /classname="[^"]*"/); desc = substr($0, RSTART + 11, RLENGTH - 12)
			gsub(/&#34;/, "\"", desc); gsub(/&#39;/, "'\''", desc)
			id = pkg "/" n; outcome = "passed"
		}
		/<(error|failure)[ >]/ { outcome = "failed" }
		/<skipped/ { outcome = "skipped" }
		/<\/testcase>/ { print id, outcome, desc }
	' "$work/$1.xml"
}
cases jack >"$work/jack.cases"
cases nginx >"$work/nginx.cases"

# A section is h2spec's chapter: generic/3, http2/5, http2/8, hpack/4...
printf '%-10s %-22s %-22s\n' section "jack pass/fail/skip" "nginx pass/fail/skip"
awk '
	{ split($1, p, "/"); split(p[2], ch, "."); s = p[1] "/" ch[1]; if (!(s in seen)) { seen[s] = 1; order[++k] = s } }
	NR == FNR { j[s, $2]++ } NR != FNR { x[s, $2]++ }
	END {
		for (i = 1; i <= k; i++) {
			s = order[i]
			printf "%-10s %-22s %-22s\n", s, (j[s, "passed"] + 0) "/" (j[s, "failed"] + 0) "/" (j[s, "skipped"] + 0),
				(x[s, "passed"] + 0) "/" (x[s, "failed"] + 0) "/" (x[s, "skipped"] + 0)
		}
	}' "$work/jack.cases" "$work/nginx.cases"
for name in jack nginx; do
	total=$(wc -l <"$work/$name.cases")
	echo
	echo "$name: $(grep -c ' passed ' "$work/$name.cases" || true)/$total passed," \
		"$(grep -c ' failed ' "$work/$name.cases" || true) failed, $(grep -c ' skipped ' "$work/$name.cases" || true) skipped"
	grep -v ' passed ' "$work/$name.cases" | sed 's/^/  /' || true
done
