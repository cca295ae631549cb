#!/usr/bin/env bash
# Proxy benchmark: direct vs nginx (round robin, keepalive) vs HAProxy (leastconn) vs plain
# vertx-http-proxy (the library alone, the floor for any Vert.x proxy) vs Dynofleet.
# Loopback only; every wait is bounded; cleans up its own processes.
#
# Usage: bench/proxy.sh [seconds-per-run]      env: CONN (64), THREADS (2), SLOW_MS (50),
#        SKIP_BUILD=1 (reuse target/quarkus-app), JAVA_OPTS for both JVM proxies,
#        WARMUP (30 s: the JIT needs that long under full load on 2 cores), PACE_MS (10: think
#        time per connection in the paced runs, which offer at most CONN*1000/PACE_MS req/s;
#        0 skips them).
# Needs wrk, nginx, haproxy, curl and a JDK 17. Missing tools: as root with apt-get it installs
# them (saying so); otherwise it prints the command and stops.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
DUR=${1:-10}
CONN=${CONN:-64}
THREADS=${THREADS:-2}
SLOW_MS=${SLOW_MS:-50}
PACE_MS=${PACE_MS:-10}
JAVA_OPTS=${JAVA_OPTS:--Xms64m -Xmx160m -XX:+UseSerialGC -XX:TieredStopAtLevel=4 -Xss512k}
TMP=$(mktemp -d)
BENCH_TOKEN=bench-token-$(date +%s)-$$
PIDS=()
BPIDS=()
DPID=
die() { echo "bench/proxy.sh: $*" >&2; exit 1; }
cleanup() {
  for p in "${BPIDS[@]:-}" "${PIDS[@]:-}"; do [ -n "$p" ] && kill "$p" 2>/dev/null || true; done
  [ -f "$TMP/nginx.pid" ] && kill "$(cat "$TMP/nginx.pid" 2>/dev/null)" 2>/dev/null || true
  wait 2>/dev/null || true
  rm -rf "$TMP"
}
trap cleanup EXIT INT TERM

# wait_http URL SECONDS WHAT [PID]: until URL answers (any status), else fail with a clear message.
wait_http() {
  local url=$1 secs=$2 what=$3 pid=${4:-} end=$((SECONDS + $2))
  until curl -s -o /dev/null --max-time 2 "$url"; do
    if [ -n "$pid" ] && ! kill -0 "$pid" 2>/dev/null; then
      [ -f "$TMP/dynofleet.log" ] && [ "$what" = dynofleet ] && tail -40 "$TMP/dynofleet.log" >&2
      die "$what exited before answering on $url"
    fi
    if [ $SECONDS -ge $end ]; then
      [ "$what" = dynofleet ] && tail -40 "$TMP/dynofleet.log" >&2
      die "$what did not answer on $url within ${secs}s"
    fi
    sleep 0.2
  done
}

missing=()
for t in wrk nginx haproxy curl java; do command -v "$t" >/dev/null 2>&1 || missing+=("$t"); done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null && [[ ! " ${missing[*]} " =~ " java " ]]; then
    echo "installing ${missing[*]} with apt-get" >&2
    apt-get update -qq && apt-get install -y -qq "${missing[@]}" >/dev/null || die "apt-get install ${missing[*]} failed"
  else
    die "missing: ${missing[*]}; install them, e.g. sudo apt-get install -y ${missing[*]}"
  fi
fi

if [ "${SKIP_BUILD:-0}" != 1 ] || [ ! -f target/quarkus-app/quarkus-run.jar ]; then
  echo "building the app (./mvnw -o -q package -DskipTests)" >&2
  timeout 600 ./mvnw -o -q -B package -DskipTests >"$TMP/build.log" 2>&1 || { tail -40 "$TMP/build.log" >&2; die "build failed"; }
fi

B=(18081 18082 18083)
for p in "${B[@]}" 18090 18091 18092 18093; do
  curl -s -o /dev/null --max-time 1 "http://127.0.0.1:$p/" && die "port $p is already in use"
done
javac -d "$TMP/backend" bench/Backend.java || die "cannot compile bench/Backend.java"
VCP=$(ls target/quarkus-app/lib/main/*.jar | grep -E '/io\.vertx\.vertx-(core|http-proxy)-|/io\.netty\.|jackson-core' | paste -sd:)
javac -cp "$VCP" -d "$TMP/plain" bench/PlainProxy.java || die "cannot compile bench/PlainProxy.java"
start_backends() { # $1 = delay of the third backend in ms
  for i in 0 1 2; do
    local d=0; [ "$i" = 2 ] && d=$1
    java -Xmx64m -cp "$TMP/backend" Backend "${B[$i]}" "$d" >/dev/null 2>&1 &
    BPIDS+=($!)
  done
  for i in 0 1 2; do wait_http "http://127.0.0.1:${B[$i]}/" 30 "backend ${B[$i]}" "${BPIDS[$i]}"; done
}
stop_backends() {
  for p in "${BPIDS[@]:-}"; do [ -n "$p" ] && kill "$p" 2>/dev/null && wait "$p" 2>/dev/null || true; done
  BPIDS=()
}

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
nginx -c "$TMP/nginx.conf" -p "$TMP" -e "$TMP/nginx.err" >"$TMP/nginx.out" 2>&1 & PIDS+=($!)
NPID=$!
haproxy -f "$TMP/haproxy.cfg" >"$TMP/haproxy.out" 2>&1 & PIDS+=($!)
HPID=$!

STATIC="http://127.0.0.1:${B[0]},http://127.0.0.1:${B[1]},http://127.0.0.1:${B[2]}"
# shellcheck disable=SC2086
(cd "$TMP" && exec env PORT=18092 DYNOFLEET_STATIC_BACKENDS="$STATIC" DYNOFLEET_SANDBOX_DEMO=false DYNOFLEET_API_TOKEN="$BENCH_TOKEN" \
  java $JAVA_OPTS -jar "$ROOT/target/quarkus-app/quarkus-run.jar" >"$TMP/dynofleet.log" 2>&1) &
DPID=$!
PIDS+=("$DPID")
# shellcheck disable=SC2086
java $JAVA_OPTS -cp "$VCP:$TMP/plain" PlainProxy 18093 $(($(nproc) * 2)) "${B[@]}" >"$TMP/plain.log" 2>&1 &
VPID=$!
PIDS+=("$VPID")
wait_http "http://127.0.0.1:18092/_dynofleet/q/health/live" 120 dynofleet "$DPID"

# CPU time (utime+stime, clock ticks) of the given pids
ticks() { local t=0 p; for p in "$@"; do t=$((t + $(awk '{print $14 + $15}' "/proc/$p/stat" 2>/dev/null || echo 0))); done; echo "$t"; }
TCK=$(getconf CLK_TCK)

# paced runs: each connection waits PACE_MS after every response (wrk's delay(); the latency
# wrk records runs from the request's write to its response, so the pause is not in it)
echo "function delay() return $PACE_MS end" >"$TMP/pace.lua"
run() { # name port [pid...]: the proxy's own CPU per request is measured over those pids
  local out name=$1 port=$2 t0 t1 cpu=- script=()
  shift 2
  [ -n "${PACED:-}" ] && script=(-s "$TMP/pace.lua")
  t0=$(ticks "$@")
  out=$(timeout $((DUR + 30)) wrk -t"$THREADS" -c"$CONN" -d"${DUR}s" --latency "${script[@]}" "http://127.0.0.1:$port/" 2>&1) \
    || die "wrk against $name failed: $out"
  t1=$(ticks "$@")
  local rps p50 p99 errs
  rps=$(awk '/Requests\/sec/ {print $2}' <<<"$out")
  p50=$(awk '$1=="50%" {print $2}' <<<"$out"); p99=$(awk '$1=="99%" {print $2}' <<<"$out")
  errs=$(awk '/Non-2xx|Socket errors/ {print}' <<<"$out" | tr '\n' ' ')
  local n; n=$(awk '/requests in/ {print $1}' <<<"$out")
  [ $# -gt 0 ] && [ "${n:-0}" -gt 0 ] && cpu=$(( (t1 - t0) * 1000000 / TCK / n ))
  printf "| %-10s | %-20s | %10s | %8s | %8s | %8s | %s |\n" "$SCEN" "$name" "$rps" "$p50" "$p99" "$cpu" "${errs:-0}"
}
# requests Dynofleet has sent each backend so far: "host:port count" lines
counts() {
  curl -s --max-time 5 -H "Authorization: Bearer $BENCH_TOKEN" "http://127.0.0.1:18092/_dynofleet/q/metrics" \
    | awk '/^dynofleet_proxy_backend_requests_total/ {match($0, /backend="[^"]*"/); b=substr($0, RSTART+9, RLENGTH-10); n[b]+=$NF}
      END {for (b in n) print b, n[b]}' || true
}
share() { # before after label: what each backend got from Dynofleet between two counts
  awk -v s="$3" 'NR==FNR {before[$1]=$2; next} {d[$1]=$2-before[$1]; all+=d[$1]}
    END {for (b in d) printf "%s: Dynofleet sent backend %s %d requests (%.2f %%)\n", s, b, d[b], all ? 100*d[b]/all : 0}' \
    "$1" "$2" | sort >>"$TMP/rss.all"
}
rss_mb() { awk '/VmRSS/ {printf "%d", $2/1024}' "/proc/$DPID/status" 2>/dev/null; }

echo "machine: $(nproc) CPUs ($(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo)), $(awk '/MemTotal/ {printf "%d MB", $2/1024}' /proc/meminfo), $(java -version 2>&1 | head -1)"
echo "wrk -t$THREADS -c$CONN -d${DUR}s (paced: ${PACE_MS} ms per connection between requests); Dynofleet JVM: $JAVA_OPTS"
printf "| scenario   | target               |      req/s |      p50 |      p99 | CPU µs/req | errors |\n|---|---|---|---|---|---|---|\n"
for s in 0 "$SLOW_MS"; do
  SCEN=$([ "$s" = 0 ] && echo fast || echo "slow+${s}ms")
  start_backends "$s"
  wait_http "http://127.0.0.1:18092/" 30 dynofleet "$DPID"
  wait_http "http://127.0.0.1:18093/" 30 vertx-http-proxy "$VPID"
  # JIT warm-up of both JVMs (not measured)
  timeout $((${WARMUP:-30} + 30)) wrk -t"$THREADS" -c"$CONN" -d"${WARMUP:-30}s" "http://127.0.0.1:18092/" >/dev/null 2>&1 || true
  timeout $((${WARMUP:-30} + 30)) wrk -t"$THREADS" -c"$CONN" -d"${WARMUP:-30}s" "http://127.0.0.1:18093/" >/dev/null 2>&1 || true
  run direct "${B[0]}"
  # shellcheck disable=SC2046
  run nginx-rr-keepalive 18090 $(pgrep -P "$NPID" | tr '\n' ' ')
  run haproxy-leastconn 18091 "$HPID"
  run vertx-http-proxy 18093 "$VPID"
  ( peak=0; end=$((SECONDS + DUR)); while [ $SECONDS -lt $end ]; do r=$(rss_mb); [ "${r:-0}" -gt "$peak" ] && peak=$r; sleep 0.5; done; echo "$peak" >"$TMP/rss" ) &
  counts >"$TMP/before"
  run dynofleet 18092 "$DPID"
  wait $! 2>/dev/null || true
  echo "$SCEN: Dynofleet peak RSS under load $(cat "$TMP/rss" 2>/dev/null || echo '?') MB" >>"$TMP/rss.all"
  # what each backend got from Dynofleet during the measured run
  counts >"$TMP/after"
  share "$TMP/before" "$TMP/after" "$SCEN"
  if [ "${PACE_MS}" != 0 ]; then
    # the same at a load the box can carry (the saturated runs above measure CPU queueing too)
    SCEN="$SCEN paced"
    PACED=1
    run direct "${B[0]}"
    # shellcheck disable=SC2046
    run nginx-rr-keepalive 18090 $(pgrep -P "$NPID" | tr '\n' ' ')
    run haproxy-leastconn 18091 "$HPID"
    run vertx-http-proxy 18093 "$VPID"
    counts >"$TMP/before"
    run dynofleet 18092 "$DPID"
    counts >"$TMP/after"
    share "$TMP/before" "$TMP/after" "$SCEN"
    PACED=
    SCEN=
  fi
  stop_backends
done
cat "$TMP/rss.all"
