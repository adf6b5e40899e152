#!/usr/bin/env bash
# The router against nginx, HAProxy and Caddy, on this machine, in one run:
#
#   1. proxying: one Go origin (bench/origin) behind each proxy, on loopback;
#   2. a 10 KiB static file served by each (HAProxy serves no files);
#   3. the router's memory with 10,000 idle keep-alive client connections;
#   4. a CPU profile of the router under the proxy load (top functions);
#   5. the proxied answer over HTTPS (TLS 1.3, keep-alive), nginx and Jack
#      with the same certificate file;
#   6. the same proxy and static loads with each server pinned to core 0
#      and wrk and the origin to core 1 (BENCH_PIN_ROUNDS, default ROUNDS).
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
for tool in nginx:nginx-light haproxy:haproxy caddy:caddy wrk:wrk openssl:openssl; do
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
	for pidfile in "$work"/nginx*.pid; do [ -f "$pidfile" ] && kill "$(cat "$pidfile")" 2>/dev/null || true; done
	wait 2>/dev/null || true
	rm -rf "$work"
}
trap cleanup EXIT

go build -o "$work/origin" ./bench/origin
go build -o "$work/idleconns" ./bench/idleconns
go build -o "$work/jack" ./cmd/jack

ORIGIN=127.0.0.1:19000 NGINX=127.0.0.1:19001 HAPROXY=127.0.0.1:19002 CADDY=127.0.0.1:19003 JACK=127.0.0.1:19004
NGINX_TLS=127.0.0.1:19021 JACK_TLS=127.0.0.1:19024 NGINX_NOLOG=127.0.0.1:19005
mkdir -p "$work/static" "$work/data" "$work/caddy"
chmod 755 "$work" "$work/static" # nginx's workers run as www-data
head -c 10240 /dev/urandom | base64 -w 76 | head -c 10240 >"$work/static/app.css"
chmod 644 "$work/static/app.css"

"$work/origin" -addr "$ORIGIN" & pids+=($!)

# nginx_conf NAME LISTEN ORIGIN TLS_LISTEN [ACCESS_LOG] writes
# $work/NAME.conf: nginx proxying to ORIGIN and serving the static folder,
# on LISTEN and over HTTPS on TLS_LISTEN, its pid in $work/NAME.pid; its
# access log buffered as in production, or ACCESS_LOG (e.g. "off").
nginx_conf() {
	local access_log="${5:-$work/$1-access.log combined buffer=64k flush=1s}"
	cat >"$work/$1.conf" <<EOF
worker_processes auto;
pid $work/$1.pid;
error_log $work/$1-error.log;
events { worker_connections 20000; }
http {
  include /etc/nginx/mime.types;
  access_log $access_log;
  upstream origin { server $3; keepalive 128; }
  server {
    listen $2;
    listen $4 ssl;
    ssl_certificate $work/tls/localhost.crt;
    ssl_certificate_key $work/tls/localhost.key;
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
}
# One certificate for "localhost" (wrk sends the URL's host as SNI), given
# to nginx and to Jack's routers as a user's certificate file.
mkdir -p "$work/tls"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 -subj /CN=localhost \
	-addext subjectAltName=DNS:localhost -keyout "$work/tls/localhost.key" -out "$work/tls/localhost.crt" 2>/dev/null
chmod 644 "$work/tls/localhost.key"
nginx_conf nginx "$NGINX" "$ORIGIN" "$NGINX_TLS"
nginx -c "$work/nginx.conf" -p "$work"
# nginx again without its access log: it writes the log from the worker
# that serves, and on this machine those writes sometimes hold its answers
# up; the router writes its own from a goroutine of its own. The static
# file is compared with both.
nginx_conf nginx-nolog "$NGINX_NOLOG" "$ORIGIN" 127.0.0.1:19025 off
nginx -c "$work/nginx-nolog.conf" -p "$work"

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

# start_jack DATA LISTEN TLS_LISTEN ORIGIN [PREFIX...] starts a Jack router
# (under PREFIX, e.g. taskset) with DATA as its data folder, on LISTEN and
# over HTTPS on TLS_LISTEN, routing to ORIGIN and serving the static folder;
# it sets jack_pid and sock.
start_jack() {
	local data=$1 listen=$2 tls_listen=$3 origin=$4
	shift 4
	mkdir -p "$data/certs"
	cp "$work/tls/localhost.crt" "$work/tls/localhost.key" "$data/certs/"
	"$@" env ${JACK_ROUTER_ENV:-} "$work/jack" router --data "$data" --http "$listen" --https "$tls_listen" >"$data/router.log" 2>&1 &
	pids+=($!)
	jack_pid=$!
	sock="$data/router.sock"
	for _ in $(seq 100); do [ -S "$sock" ] && break; sleep 0.05; done
	curl -sf --unix-socket "$sock" -X PUT http://router/routes -d "{\"generation\":1,\"routes\":[{\"env\":\"bench/prod\",\"hosts\":[\"${listen%:*}\",\"localhost\"],
  \"upstreams\":[{\"id\":\"origin\",\"addr\":\"$origin\"}],\"static\":[{\"url\":\"/static/\",\"dir\":\"$work/static\"}]}]}"
}
start_jack "$work/data" "$JACK" "$JACK_TLS" "$ORIGIN"

wait_up() {
	for _ in $(seq 100); do curl -sf -o /dev/null "http://$1$2" && return 0; sleep 0.05; done
	echo "$1 did not answer $2" >&2
	exit 1
}
for addr in "$ORIGIN" "$NGINX" "$HAPROXY" "$CADDY" "$JACK"; do wait_up "$addr" /; done
for addr in "$NGINX" "$NGINX_NOLOG" "$CADDY" "$JACK"; do wait_up "$addr" /static/app.css; done
for addr in "$NGINX_TLS" "$JACK_TLS"; do
	for _ in $(seq 100); do curl -skf -o /dev/null "https://localhost:${addr##*:}/" && break; sleep 0.05; done
	curl -skf -o /dev/null "https://localhost:${addr##*:}/" || { echo "$addr did not answer over HTTPS" >&2; exit 1; }
done

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
	out="$(${WRK_PREFIX:-} wrk -t2 -c"$CONNS" -d"${SECONDS_PER_RUN}s" --latency "$url")"
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
nginx_nolog_pids="$(pgrep -P "$(cat "$work/nginx-nolog.pid")" | tr '\n' ' ')"
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
	echo "== round $round of $ROUNDS: proxy (a Go origin behind each), a 10 KiB static file (HAProxy serves none), proxy over HTTPS" >&2
	measure direct "http://$ORIGIN/" "$origin_pid"
	measure nginx "http://$NGINX/" $nginx_pids
	measure haproxy "http://$HAPROXY/" "$haproxy_pid"
	measure caddy "http://$CADDY/" "$caddy_pid"
	measure jack "http://$JACK/" "$jack_pid"
	measure s-nginx "http://$NGINX/static/app.css" $nginx_pids
	measure s-nginx-nolog "http://$NGINX_NOLOG/static/app.css" $nginx_nolog_pids
	measure s-caddy "http://$CADDY/static/app.css" "$caddy_pid"
	measure s-jack "http://$JACK/static/app.css" "$jack_pid"
	measure t-nginx "https://localhost:${NGINX_TLS##*:}/" $nginx_pids
	measure t-jack "https://localhost:${JACK_TLS##*:}/" "$jack_pid"
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

# Pinned: on this 2-core machine wrk and the server under test compete for
# the same cores, and the scheduler's choices between them show in the
# tail. Here each server gets core 0 to itself and wrk and the origin
# share core 1, so each is measured on one core of its own.
PIN_ROUNDS="${BENCH_PIN_ROUNDS:-$ROUNDS}"
if [ "$PIN_ROUNDS" -gt 0 ]; then
	PORIGIN=127.0.0.1:19010 PNGINX=127.0.0.1:19011 PJACK=127.0.0.1:19014
	taskset -c 1 "$work/origin" -addr "$PORIGIN" & pids+=($!)
	nginx_conf nginx-pinned "$PNGINX" "$PORIGIN" 127.0.0.1:19031
	taskset -c 0 nginx -c "$work/nginx-pinned.conf" -p "$work"
	start_jack "$work/data-pinned" "$PJACK" 127.0.0.1:19034 "$PORIGIN" taskset -c 0
	for addr in "$PORIGIN" "$PNGINX" "$PJACK"; do wait_up "$addr" /; done
	pnginx_pids="$(pgrep -P "$(cat "$work/nginx-pinned.pid")" | tr '\n' ' ')"
	WRK_PREFIX="taskset -c 1"
	for round in $(seq "$PIN_ROUNDS"); do
		echo "== pinned round $round of $PIN_ROUNDS: each server on core 0, wrk and the origin on core 1" >&2
		measure p-nginx "http://$PNGINX/" $pnginx_pids
		measure p-jack "http://$PJACK/" "$jack_pid"
		measure ps-nginx "http://$PNGINX/static/app.css" $pnginx_pids
		measure ps-jack "http://$PJACK/static/app.css" "$jack_pid"
	done
fi

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
row "  nginx, no access log" s-nginx-nolog
row "static 10KiB caddy" s-caddy
row "static 10KiB jack" s-jack "$(ratio "${best_rps[s-jack]}" "${best_rps[s-nginx]}")x"
row "https proxy nginx" t-nginx
row "https proxy jack" t-jack "$(ratio "${best_rps[t-jack]}" "${best_rps[t-nginx]}")x"
echo "p99 jack/nginx: proxy $(ratio "${best_p99[jack]}" "${best_p99[nginx]}")x, static $(ratio "${best_p99[s-jack]}" "${best_p99[s-nginx]}")x (1.00x or less is the target), https proxy $(ratio "${best_p99[t-jack]}" "${best_p99[t-nginx]}")x"
echo "static against nginx without its access log (the router keeps its own): $(ratio "${best_rps[s-jack]}" "${best_rps[s-nginx-nolog]}")x req/s, p99 $(ratio "${best_p99[s-jack]}" "${best_p99[s-nginx-nolog]}")x"
echo "CPU per request jack/nginx: proxy $(ratio "${best_cpu[jack]}" "${best_cpu[nginx]}")x, static $(ratio "${best_cpu[s-jack]}" "${best_cpu[s-nginx]}")x"
echo "router RSS: $((before / 1024)) MiB idle, $((after / 1024)) MiB with $IDLE_CONNS idle keep-alive connections ($(awk -v a="$after" -v b="$before" -v n="$IDLE_CONNS" 'BEGIN { printf "%.1f", (a - b) / n }') KiB each)"
if [ "$PIN_ROUNDS" -gt 0 ]; then
	echo
	echo "PINNED (each server on core 0 alone; wrk and the origin on core 1; best of $PIN_ROUNDS rounds)"
	printf '%-22s %10s %10s %14s %12s\n' "" "req/s" "p99 ms" "CPU us/req" "jack/nginx"
	row "proxy nginx" p-nginx
	row "proxy jack" p-jack "$(ratio "${best_rps[p-jack]}" "${best_rps[p-nginx]}")x"
	row "static 10KiB nginx" ps-nginx
	row "static 10KiB jack" ps-jack "$(ratio "${best_rps[ps-jack]}" "${best_rps[ps-nginx]}")x"
	echo "p99 jack/nginx: proxy $(ratio "${best_p99[p-jack]}" "${best_p99[p-nginx]}")x, static $(ratio "${best_p99[ps-jack]}" "${best_p99[ps-nginx]}")x"
fi
