#!/usr/bin/env bash
# A 10 KiB static file from a minimal nginx and from Jack's router, in
# alternating wrk runs (2 threads, 64 connections, BENCH_SECONDS each,
# BENCH_ROUNDS pairs), with nothing else running: the steadiest comparison
# of the two on this machine. nginx is as lean as it gets (one server, the
# static location, no access log); the router keeps its access log on, as
# in production. It prints each run's requests per second, p50, p90 and
# p99, and each pair's ratios. bench/router.sh is the full comparison
# (proxying, HTTPS, HAProxy and Caddy, memory, pinned cores); see
# bench/README.md for why its nginx static figures vary.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="/usr/local/go/bin:$PATH"
for pkg in nginx-light:nginx wrk:wrk; do
	command -v "${pkg#*:}" >/dev/null || { apt-get update -qq && apt-get install -y -qq "${pkg%:*}" >/dev/null; }
done

SECONDS_PER_RUN="${BENCH_SECONDS:-5}"
ROUNDS="${BENCH_ROUNDS:-3}"
NGINX=127.0.0.1:19301 JACK=127.0.0.1:19304
work="$(mktemp -d /tmp/jack-bench-static.XXXXXX)"
pids=()
cleanup() {
	for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
	[ -f "$work/nginx.pid" ] && kill "$(cat "$work/nginx.pid")" 2>/dev/null || true
	rm -rf "$work"
}
trap cleanup EXIT
mkdir -p "$work/static" "$work/data"
chmod 755 "$work" "$work/static" # nginx's workers run as www-data
head -c 10240 /dev/urandom | base64 -w 76 | head -c 10240 >"$work/static/app.css"
chmod 644 "$work/static/app.css"
go build -o "$work/jack" ./cmd/jack

cat >"$work/nginx.conf" <<EOF
worker_processes auto;
pid $work/nginx.pid;
error_log $work/nginx-error.log;
events { worker_connections 20000; }
http {
  include /etc/nginx/mime.types;
  access_log off;
  server { listen $NGINX; location /static/ { alias $work/static/; etag on; } }
}
EOF
nginx -c "$work/nginx.conf" -p "$work"
"$work/jack" router --data "$work/data" --http "$JACK" >"$work/router.log" 2>&1 &
pids+=($!)
for _ in $(seq 100); do [ -S "$work/data/router.sock" ] && break; sleep 0.05; done
curl -sf --unix-socket "$work/data/router.sock" -X PUT http://router/routes -d "{\"generation\":1,\"routes\":[{\"env\":\"bench/prod\",
  \"hosts\":[\"${JACK%:*}\"],\"upstreams\":[],\"static\":[{\"url\":\"/static/\",\"dir\":\"$work/static\"}]}]}"
for addr in "$NGINX" "$JACK"; do
	for _ in $(seq 100); do curl -sf -o /dev/null "http://$addr/static/app.css" && break; sleep 0.05; done
	curl -sf -o /dev/null "http://$addr/static/app.css" || { echo "$addr does not serve the file" >&2; exit 1; }
done

# one ADDR prints "rps p50 p90 p99" (ms) of one wrk run.
one() {
	wrk -t2 -c64 -d"${SECONDS_PER_RUN}s" --latency "http://$1/static/app.css" | awk '
		function ms(v) { if (v ~ /us$/) { sub(/us$/, "", v); return v / 1000 } if (v ~ /ms$/) { sub(/ms$/, "", v); return v } sub(/s$/, "", v); return v * 1000 }
		/^Requests\/sec:/ { r = $2 } $1 == "50%" { a = ms($2) } $1 == "90%" { b = ms($2) } $1 == "99%" { c = ms($2) }
		END { printf "%.0f %.2f %.2f %.2f\n", r, a, b, c }'
}
wrk -t2 -c64 -d2s "http://$NGINX/static/app.css" >/dev/null
wrk -t2 -c64 -d2s "http://$JACK/static/app.css" >/dev/null
printf '%-6s %-6s %9s %8s %8s %8s\n' round server "req/s" "p50 ms" "p90 ms" "p99 ms"
for round in $(seq "$ROUNDS"); do
	read -r nr n50 n90 n99 < <(one "$NGINX")
	read -r jr j50 j90 j99 < <(one "$JACK")
	printf '%-6s %-6s %9s %8s %8s %8s\n' "$round" nginx "$nr" "$n50" "$n90" "$n99" "$round" jack "$jr" "$j50" "$j90" "$j99"
	awk -v a="$jr" -v b="$nr" -v c="$j99" -v d="$n99" 'BEGIN { printf "       jack/nginx: %.2fx req/s, p99 %.2fx\n", a / b, c / d }'
done
