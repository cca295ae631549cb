#!/usr/bin/env bash
# Proxy benchmark: direct vs nginx (round robin, keepalive) vs HAProxy (leastconn) vs Dynofleet.
# Loopback only; bounded duration; cleans up its own processes. Usage: bench/proxy.sh [seconds]
set -euo pipefail
cd "$(dirname "$0")/.."
DUR=${1:-10}
CONN=${CONN:-64}
THREADS=${THREADS:-2}
TMP=$(mktemp -d)
PIDS=()
cleanup() { for p in "${PIDS[@]:-}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$TMP"; }
trap cleanup EXIT

need() { command -v "$1" >/dev/null 2>&1; }
if ! need wrk || ! need nginx || ! need haproxy; then
  apt-get install -y wrk nginx haproxy >/dev/null 2>&1 || { apt-get update >/dev/null && apt-get install -y wrk nginx haproxy >/dev/null; }
fi
[ -f target/quarkus-app/quarkus-run.jar ] || ./mvnw -B -q package -DskipTests

B=(18081 18082 18083)
start_backends() { # $1 = delay of the third backend in ms
  for i in 0 1 2; do
    d=0; [ "$i" = 2 ] && d=$1
    java -Xmx64m bench/Backend.java "${B[$i]}" "$d" >/dev/null 2>&1 & PIDS+=($!); BPIDS+=($!)
  done
  for p in "${B[@]}"; do until curl -s -o /dev/null "http://127.0.0.1:$p/"; do sleep 0.2; done; done
}
stop_backends() { for p in "${BPIDS[@]}"; do kill "$p" 2>/dev/null || true; done; BPIDS=(); sleep 0.5; }
BPIDS=()

cat > "$TMP/nginx.conf" <<NG
worker_processes 2; daemon off; pid $TMP/nginx.pid; error_log $TMP/nginx.err;
events { worker_connections 4096; }
http { access_log off;
  upstream b { server 127.0.0.1:${B[0]}; server 127.0.0.1:${B[1]}; server 127.0.0.1:${B[2]}; keepalive 64; }
  server { listen 127.0.0.1:18090; location / { proxy_pass http://b; proxy_http_version 1.1; proxy_set_header Connection ""; } } }
NG
cat > "$TMP/haproxy.cfg" <<HA
global
  maxconn 4096
  nbthread 2
defaults
  mode http
  timeout connect 5s
  timeout client 30s
  timeout server 30s
  http-reuse always
frontend f
  bind 127.0.0.1:18091
  default_backend b
backend b
  balance leastconn
  server s1 127.0.0.1:${B[0]}
  server s2 127.0.0.1:${B[1]}
  server s3 127.0.0.1:${B[2]}
HA
nginx -c "$TMP/nginx.conf" -p "$TMP" >/dev/null 2>&1 & PIDS+=($!)
haproxy -f "$TMP/haproxy.cfg" >/dev/null 2>&1 & PIDS+=($!)

STATIC="http://127.0.0.1:${B[0]},http://127.0.0.1:${B[1]},http://127.0.0.1:${B[2]}"
(cd "$TMP" && exec env PORT=18092 DYNOFLEET_STATIC_BACKENDS="$STATIC" java -Xmx192m -XX:+UseSerialGC \
  -jar "$OLDPWD/target/quarkus-app/quarkus-run.jar" >"$TMP/dynofleet.log" 2>&1) & PIDS+=($!)
DPID=$!

run() { # name port -> "rps p50 p99"
  local out; out=$(wrk -t"$THREADS" -c"$CONN" -d"${DUR}s" --latency "http://127.0.0.1:$2/" 2>&1)
  local rps p50 p99
  rps=$(awk '/Requests\/sec/ {print $2}' <<<"$out")
  p50=$(awk '$1=="50%" {print $2}' <<<"$out"); p99=$(awk '$1=="99%" {print $2}' <<<"$out")
  local errs; errs=$(awk '/Non-2xx|Socket errors/ {print}' <<<"$out" | tr '\n' ' ')
  printf "| %-10s | %-22s | %10s | %8s | %8s | %s |\n" "$SCEN" "$1" "$rps" "$p50" "$p99" "${errs:-0}"
}
rss() { local pid=$DPID; awk '/VmRSS/ {printf "%d MB", $2/1024}' "/proc/$pid/status" 2>/dev/null; }

for s in 0 50; do
  SCEN=$([ "$s" = 0 ] && echo fast || echo "slow+${s}ms")
  start_backends "$s"
  until curl -s -o /dev/null "http://127.0.0.1:18092/"; do sleep 0.5; done
  wrk -t1 -c8 -d3s "http://127.0.0.1:18092/" >/dev/null 2>&1 # warm-up
  [ "$s" = 0 ] && printf "| scenario   | target                 |      req/s |      p50 |      p99 | errors |\n|---|---|---|---|---|---|\n"
  run direct ${B[0]}
  run nginx-rr-keepalive 18090
  run haproxy-leastconn 18091
  ( sleep $((DUR / 2)); rss > "$TMP/rss" ) &
  run dynofleet 18092
  wait
  echo "RSS of Dynofleet under load ($SCEN): $(cat "$TMP/rss")"
  stop_backends
done
