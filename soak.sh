#!/usr/bin/env bash
# The soak (issue 14; not part of ./test.sh): builds Spindrift, starts the local stack and runs clickstream traffic
# at a steady rate into a Kinesis stream and a Kafka topic (2 lanes each) through the local event-source mappings
# into Lambda-like containers (child JVMs frozen with SIGSTOP between invocations), killing a random container with
# kill -9 every --kill-every seconds. Prints a line a minute (produced, table rows + rejects, batches, errors, kills,
# freezes, driver heap, container RSS) and a summary: records in, table rows, rejects, lost, duplicated, memory.
# Exits 0 only when nothing was lost or duplicated and container RSS did not grow 20 % after warm-up.
#   ./soak.sh [--minutes 30] [--rate N events/s per source] [--format iceberg|delta|hudi] [--kill-every SECONDS]
#   ./soak.sh --help lists the rest (--batch-size, --drain-timeout, --seed, --set SPINDRIFT_X=value)
set -euo pipefail
cd "$(dirname "$0")"
mvn -B -q --no-transfer-progress install -DskipTests
exec mvn -B -q --no-transfer-progress -pl examples exec:exec@soak -Dsoak.args="$*"
