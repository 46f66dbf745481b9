#!/usr/bin/env bash
# The Spindrift benchmark (DESIGN §12; docs/PERFORMANCE.md): builds what it needs, starts its own local
# stack, and measures Spindrift beside plain Spark Structured Streaming and the physical floor.
# Not part of the tests. Writes bench/target/bench-results.json and bench/target/bench-latency.png.
#   ./bench.sh            full run, about 7 minutes on 2 cores (build included)
#   ./bench.sh --quick    smoke run, about 2.5 minutes (too few samples to quote)
#   other options: --reps N --big-reps N --warmup N --cold-reps N --cold-records N --sizes 1,100,1000,10000
# Maven holds /tmp/spindrift-mvn.lock for the whole run, so no other build on this machine disturbs it.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"
mvn_locked() { flock /tmp/spindrift-mvn.lock mvn -B --no-transfer-progress "$@"; }
mvn_locked -q -pl bench -am install -Dmaven.test.skip=true
mvn_locked -q -pl bench exec:exec@bench -Dbench.args="$*"
