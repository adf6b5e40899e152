#!/usr/bin/env bash
# The router against nginx, HAProxy and Caddy, on this machine, in one run:
#
#   1. proxying: one Go origin (bench/origin) behind each proxy, on loopback;
#   2. a 10 KiB static file served by each (HAProxy serves no files);
#   3. the router's memory with 10,000 idle keep-alive client connections;
#   4. a CPU profile of the router under the proxy load (top functions).
#
# Each load is wrk with 64 connections (2 threads) for BENCH_SECONDS
# (default 5), BENCH_ROUNDS times (default 3) interleaved, keeping each
# target's best round, since other work on the machine only slows a round
# down. It prints requests per second, p99 latency and the server's CPU
# time per request of each, and Jack's ratio to nginx. Targets (issue 3): proxy >= 0.7x nginx, static >=
# 0.8x nginx, p99 no worse than nginx's. See bench/README.md for what the
# numbers mean and where the time goes.
#
# Usage: bench/router.sh      (installs nginx, haproxy, caddy and wrk with
#                              apt-get when missing; needs root for that)
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="/usr/local/go/bin:$PATH"
SECONDS_PER_RUN="${BENCH_SECONDS:-5}"
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

env ${JACK_ROUTER_ENV:-} "$work/jack" router --data "$work/data" --http "$JACK" >"$work/router.log" 2>&1 & pids+=($!)
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

# cpu_ticks PID... prints the CPU time (clock ticks) the processes used.
cpu_ticks() {
	local t=0 p
	for p in "$@"; do t=$((t + $(awk '{print $14 + $15}' "/proc/$p/stat"))); done
	echo "$t"
}

# run URL PID... prints "rps p99_ms cpu_us_per_request" of one wrk run,
# the CPU being what the PIDs (the server under test) used.
run() {
	local url=$1
	shift
	local before after out rps p99 requests
	before="$(cpu_ticks "$@")"
	out="$(wrk -t2 -c"$CONNS" -d"${SECONDS_PER_RUN}s" --latency "$url")"
	after="$(cpu_ticks "$@")"
	rps="$(awk '/^Requests\/sec:/ {print $2}' <<<"$out")"
	requests="$(awk '/requests in/ {print $1}' <<<"$out")"
	p99="$(awk '$1 == "99%" {v=$2; if (v ~ /us$/) {sub(/us$/, "", v); v/=1000} else if (v ~ /ms$/) {sub(/ms$/, "", v)} else if (v ~ /s$/) {sub(/s$/, "", v); v*=1000}; print v}' <<<"$out")"
	if grep -qE "Socket errors|Non-2xx" <<<"$out"; then
		echo "errors against $url: $(grep -E 'Socket errors|Non-2xx' <<<"$out")" >&2
	fi
	awk -v r="$rps" -v p="$p99" -v a="$after" -v b="$before" -v n="$requests" -v hz="$(getconf CLK_TCK)" \
		'BEGIN {printf "%s %s %.1f\n", r, p, (a - b) / hz * 1e6 / n}'
}

ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.2f", a / b}'; }

nginx_pids="$(pgrep -P "$(cat "$work/nginx.pid")" | tr '\n' ' ')"
origin_pid="${pids[0]}"
haproxy_pid="${pids[1]}"
caddy_pid="${pids[2]}"

# The machine may be shared: each target runs ROUNDS times, interleaved,
# and keeps its best round (interference only makes a round worse).
ROUNDS="${BENCH_ROUNDS:-3}"
declare -A best_rps best_p99 best_cpu
measure() { # NAME URL PID...
	local name=$1
	shift
	local rps p99 cpu
	read -r rps p99 cpu < <(run "$@")
	printf '  %-14s %10.0f req/s   p99 %7.2f ms   %6.1f us CPU/request\n' "$name" "$rps" "$p99" "$cpu" >&2
	if [ -z "${best_rps[$name]:-}" ] || awk -v a="$rps" -v b="${best_rps[$name]}" 'BEGIN {exit !(a > b)}'; then best_rps[$name]=$rps; fi
	if [ -z "${best_p99[$name]:-}" ] || awk -v a="$p99" -v b="${best_p99[$name]}" 'BEGIN {exit !(a < b)}'; then best_p99[$name]=$p99; fi
	if [ -z "${best_cpu[$name]:-}" ] || awk -v a="$cpu" -v b="${best_cpu[$name]}" 'BEGIN {exit !(a < b)}'; then best_cpu[$name]=$cpu; fi
}

echo "== warm-up" >&2
wrk -t2 -c"$CONNS" -d2s "http://$JACK/" >/dev/null
wrk -t2 -c"$CONNS" -d2s "http://$NGINX/" >/dev/null

for round in $(seq "$ROUNDS"); do
	echo "== round $round of $ROUNDS: proxy (a Go origin behind each), then a 10 KiB static file (HAProxy serves none)" >&2
	measure direct "http://$ORIGIN/" "$origin_pid"
	measure nginx "http://$NGINX/" $nginx_pids
	measure haproxy "http://$HAPROXY/" "$haproxy_pid"
	measure caddy "http://$CADDY/" "$caddy_pid"
	measure jack "http://$JACK/" "$jack_pid"
	measure s-nginx "http://$NGINX/static/app.css" $nginx_pids
	measure s-caddy "http://$CADDY/static/app.css" "$caddy_pid"
	measure s-jack "http://$JACK/static/app.css" "$jack_pid"
done

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
echo "RESULTS (this machine, $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg); wrk -c$CONNS, best of $ROUNDS rounds of ${SECONDS_PER_RUN}s)"
printf '%-22s %10s %10s %14s %12s\n' "" "req/s" "p99 ms" "CPU us/req" "jack/nginx"
row() { printf '%-22s %10.0f %10.2f %14.1f %12s\n' "$1" "${best_rps[$2]}" "${best_p99[$2]}" "${best_cpu[$2]}" "${3:-}"; }
row "origin direct" direct
row "proxy nginx" nginx
row "proxy haproxy" haproxy
row "proxy caddy" caddy
row "proxy jack" jack "$(ratio "${best_rps[jack]}" "${best_rps[nginx]}")x"
row "static 10KiB nginx" s-nginx
row "static 10KiB caddy" s-caddy
row "static 10KiB jack" s-jack "$(ratio "${best_rps[s-jack]}" "${best_rps[s-nginx]}")x"
echo "p99 jack/nginx: proxy $(ratio "${best_p99[jack]}" "${best_p99[nginx]}")x, static $(ratio "${best_p99[s-jack]}" "${best_p99[s-nginx]}")x (1.00x or less is the target)"
echo "CPU per request jack/nginx: proxy $(ratio "${best_cpu[jack]}" "${best_cpu[nginx]}")x, static $(ratio "${best_cpu[s-jack]}" "${best_cpu[s-nginx]}")x"
echo "router RSS: $((before / 1024)) MiB idle, $((after / 1024)) MiB with $IDLE_CONNS idle keep-alive connections ($(((after - before) / IDLE_CONNS)) KiB each)"
