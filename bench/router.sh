#!/usr/bin/env bash
# The router against nginx, HAProxy and Caddy, on this machine, in one run:
#
#   1. proxying: one Go origin (bench/origin) behind each proxy, on loopback;
#   2. a 10 KiB static file served by each (HAProxy serves no files);
#   3. the router's memory with 10,000 idle keep-alive client connections;
#   4. a CPU profile of the router under the proxy load (top functions).
#
# Each load is wrk with 64 connections (2 threads) for BENCH_SECONDS
# (default 10). It prints requests per second and p99 latency of each, and
# Jack's ratio to nginx. Targets (issue 3): proxy >= 0.7x nginx, static >=
# 0.8x nginx, p99 no worse than nginx's. See bench/README.md for what the
# numbers mean and where the time goes.
#
# Usage: bench/router.sh      (installs nginx, haproxy, caddy and wrk with
#                              apt-get when missing; needs root for that)
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="/usr/local/go/bin:$PATH"
SECONDS_PER_RUN="${BENCH_SECONDS:-10}"
CONNS=64
IDLE_CONNS="${BENCH_IDLE_CONNS:-10000}"

need=()
for tool in nginx:nginx-light haproxy:haproxy caddy:caddy wrk:wrk; do
	command -v "${tool%%:*}" >/dev/null || [ -x "/usr/sbin/${tool%%:*}" ] || need+=("${tool##*:}")
done
if [ "${#need[@]}" -gt 0 ]; then
	echo "installing ${need[*]}"
	apt-get update -qq >/dev/null
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
fi
export PATH="$PATH:/usr/sbin"

ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
work="$(mktemp -d /tmp/jack-bench-router.XXXXXX)"
pids=()
cleanup() {
	for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
	[ -f "$work/nginx.pid" ] && kill "$(cat "$work/nginx.pid")" 2>/dev/null || true
	wait 2>/dev/null || true
	rm -rf "$work"
}
trap cleanup EXIT

go build -o "$work/origin" ./bench/origin
go build -o "$work/idleconns" ./bench/idleconns
go build -o "$work/jack" ./cmd/jack

ORIGIN=127.0.0.1:19000 NGINX=127.0.0.1:19001 HAPROXY=127.0.0.1:19002 CADDY=127.0.0.1:19003 JACK=127.0.0.1:19004
mkdir -p "$work/static" "$work/data" "$work/caddy"
chmod 755 "$work" "$work/static" # nginx's workers run as www-data
head -c 10240 /dev/urandom | base64 -w 76 | head -c 10240 >"$work/static/app.css"
chmod 644 "$work/static/app.css"

"$work/origin" -addr "$ORIGIN" & pids+=($!)

cat >"$work/nginx.conf" <<EOF
worker_processes auto;
pid $work/nginx.pid;
error_log $work/nginx-error.log;
events { worker_connections 20000; }
http {
  include /etc/nginx/mime.types;
  access_log $work/nginx-access.log combined buffer=64k flush=1s;
  upstream origin { server $ORIGIN; keepalive 128; }
  server {
    listen $NGINX;
    location /static/ { alias $work/static/; etag on; }
    location / {
      proxy_pass http://origin;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header Host \$host;
      proxy_set_header X-Forwarded-For \$proxy_add_x_forwarded_for;
      proxy_set_header X-Forwarded-Proto \$scheme;
    }
  }
}
EOF
nginx -c "$work/nginx.conf" -p "$work"

cat >"$work/haproxy.cfg" <<EOF
global
  maxconn 8000
  nbthread 2
defaults
  mode http
  timeout connect 2s
  timeout client 60s
  timeout server 60s
  option http-keep-alive
  option forwardfor
frontend fe
  bind $HAPROXY
  default_backend be
backend be
  http-reuse always
  server origin $ORIGIN
EOF
haproxy -f "$work/haproxy.cfg" -q & pids+=($!)

cat >"$work/Caddyfile" <<EOF
{
  admin off
  auto_https off
  storage file_system $work/caddy
}
http://$CADDY {
  handle_path /static/* {
    root * $work/static
    file_server
  }
  reverse_proxy $ORIGIN
}
EOF
XDG_DATA_HOME="$work/caddy" XDG_CONFIG_HOME="$work/caddy" caddy run --config "$work/Caddyfile" --adapter caddyfile >"$work/caddy.log" 2>&1 & pids+=($!)

"$work/jack" router --data "$work/data" --http "$JACK" >"$work/router.log" 2>&1 & pids+=($!)
jack_pid=$!
sock="$work/data/router.sock"
for _ in $(seq 100); do [ -S "$sock" ] && break; sleep 0.05; done
curl -sf --unix-socket "$sock" -X PUT http://router/routes -d "{\"generation\":1,\"routes\":[{\"env\":\"bench/prod\",\"hosts\":[\"127.0.0.1\"],
  \"upstreams\":[{\"id\":\"origin\",\"addr\":\"$ORIGIN\"}],\"static\":[{\"url\":\"/static/\",\"dir\":\"$work/static\"}]}]}"

wait_up() {
	for _ in $(seq 100); do curl -sf -o /dev/null "http://$1$2" && return 0; sleep 0.05; done
	echo "$1 did not answer $2" >&2
	exit 1
}
for addr in "$ORIGIN" "$NGINX" "$HAPROXY" "$CADDY" "$JACK"; do wait_up "$addr" /; done
for addr in "$NGINX" "$CADDY" "$JACK"; do wait_up "$addr" /static/app.css; done

# run NAME URL prints "rps p99_ms" for one wrk run.
run() {
	local out
	out="$(wrk -t2 -c"$CONNS" -d"${SECONDS_PER_RUN}s" --latency "$2")"
	local rps p99
	rps="$(awk '/^Requests\/sec:/ {print $2}' <<<"$out")"
	p99="$(awk '$1 == "99%" {v=$2; if (v ~ /us$/) {sub(/us$/, "", v); v/=1000} else if (v ~ /ms$/) {sub(/ms$/, "", v)} else if (v ~ /s$/) {sub(/s$/, "", v); v*=1000}; print v}' <<<"$out")"
	local errors
	errors="$(awk '/Socket errors|Non-2xx/ {print}' <<<"$out" | tr '\n' ' ')"
	printf '%-8s %10.0f req/s   p99 %7.2f ms  %s\n' "$1" "$rps" "$p99" "$errors" >&2
	echo "$rps $p99"
}

ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.2f", a / b}'; }

echo "== warm-up" >&2
wrk -t2 -c"$CONNS" -d2s "http://$JACK/" >/dev/null
wrk -t2 -c"$CONNS" -d2s "http://$NGINX/" >/dev/null

echo "== proxy: a Go origin behind each (wrk, $CONNS connections, ${SECONDS_PER_RUN}s)" >&2
read -r direct_rps direct_p99 < <(run direct "http://$ORIGIN/")
read -r nginx_rps nginx_p99 < <(run nginx "http://$NGINX/")
read -r haproxy_rps haproxy_p99 < <(run haproxy "http://$HAPROXY/")
read -r caddy_rps caddy_p99 < <(run caddy "http://$CADDY/")
read -r jack_rps jack_p99 < <(run jack "http://$JACK/")

echo "== static: a 10 KiB file (HAProxy serves none)" >&2
read -r snginx_rps snginx_p99 < <(run nginx "http://$NGINX/static/app.css")
read -r scaddy_rps scaddy_p99 < <(run caddy "http://$CADDY/static/app.css")
read -r sjack_rps sjack_p99 < <(run jack "http://$JACK/static/app.css")

echo "== profile of the router under the proxy load" >&2
wrk -t2 -c"$CONNS" -d8s "http://$JACK/" >/dev/null &
wrk_pid=$!
sleep 1
curl -s --unix-socket "$sock" "http://router/debug/pprof/profile?seconds=5" -o "$work/cpu.prof"
wait "$wrk_pid"
go tool pprof -top -nodecount=25 "$work/jack" "$work/cpu.prof" 2>/dev/null | sed -n '1,32p' >&2 || true

echo "== memory with $IDLE_CONNS idle keep-alive client connections" >&2
rss() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status"; }
before="$(rss "$jack_pid")"
"$work/idleconns" -addr "$JACK" -n "$IDLE_CONNS" >"$work/idle.out" &
idle_pid=$!
for _ in $(seq 600); do grep -q ready "$work/idle.out" 2>/dev/null && break; sleep 0.1; done
sleep 1
after="$(rss "$jack_pid")"
kill "$idle_pid" 2>/dev/null || true

echo
echo "RESULTS (this machine, $(nproc) cores; wrk -c$CONNS)"
printf '%-22s %10s %10s %12s\n' "" "req/s" "p99 ms" "jack/nginx"
printf '%-22s %10.0f %10.2f\n' "origin direct" "$direct_rps" "$direct_p99"
printf '%-22s %10.0f %10.2f\n' "proxy nginx" "$nginx_rps" "$nginx_p99"
printf '%-22s %10.0f %10.2f\n' "proxy haproxy" "$haproxy_rps" "$haproxy_p99"
printf '%-22s %10.0f %10.2f\n' "proxy caddy" "$caddy_rps" "$caddy_p99"
printf '%-22s %10.0f %10.2f %12s\n' "proxy jack" "$jack_rps" "$jack_p99" "$(ratio "$jack_rps" "$nginx_rps")x"
printf '%-22s %10.0f %10.2f\n' "static 10KiB nginx" "$snginx_rps" "$snginx_p99"
printf '%-22s %10.0f %10.2f\n' "static 10KiB caddy" "$scaddy_rps" "$scaddy_p99"
printf '%-22s %10.0f %10.2f %12s\n' "static 10KiB jack" "$sjack_rps" "$sjack_p99" "$(ratio "$sjack_rps" "$snginx_rps")x"
echo "p99 jack/nginx: proxy $(ratio "$jack_p99" "$nginx_p99")x, static $(ratio "$sjack_p99" "$snginx_p99")x (1.00x or less is the target)"
echo "router RSS: $((before / 1024)) MiB idle, $((after / 1024)) MiB with $IDLE_CONNS idle keep-alive connections ($(((after - before) / IDLE_CONNS)) KiB each)"
