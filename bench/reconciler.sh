#!/usr/bin/env bash
# Reconciler benchmark: one packaged Dynofleet process against the Platform API simulator with a
# fixed latency per API call (default 50 ms). Prints a table: time for 0→N replicas (N = 1, 5, 20)
# and Platform API calls per pool per steady-state pass for 1, 10 and 50 pools.
# Usage: bench/reconciler.sh [latency-ms]      (builds what it needs; loopback only)
set -euo pipefail
cd "$(dirname "$0")/.."
LATENCY=${1:-50}
MVN="./mvnw -B -q"
[ -n "${OFFLINE:-}" ] && MVN="$MVN -o"
# the packaged jar (the process under test) and the compiled test classes (the harness)
$MVN package -DskipTests
$MVN dependency:build-classpath -Dmdep.includeScope=test -Dmdep.outputFile=target/bench-classpath.txt >/dev/null
mkdir -p target/reliability
# harness logs go to a file; the child process logs to target/reliability/bench/dyno-1.log
java -Xmx256m -Dlatency.ms="$LATENCY" -Ddynofleet.jar=target/quarkus-app/quarkus-run.jar \
  -cp "target/test-classes:target/classes:$(cat target/bench-classpath.txt)" \
  io.dynofleet.reliability.ReconcilerBench 2> target/reliability/bench-harness.log
