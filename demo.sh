#!/usr/bin/env bash
# Runs the local demo: builds Spindrift, starts the local stack (DynamoDB Local, s3proxy, Kafka, kinesalite),
# produces a clickstream into Kinesis and Kafka and lands it in an Iceberg (or Delta, or Hudi) table through the local event-source mapping.
# Options are passed to the demo: --events N (default 100000), --batch-size N (default 1000),
# --format iceberg|delta|hudi (default iceberg).
set -euo pipefail
cd "$(dirname "$0")"
mvn -B -q --no-transfer-progress install -DskipTests
exec mvn -B -q --no-transfer-progress -pl examples exec:exec@demo -Ddemo.args="$*"
