#!/usr/bin/env bash
# Runs the local demo, or your own job, on the embedded local stack: builds Spindrift, starts the local stack
# (DynamoDB Local, s3proxy, Kafka, kinesalite), produces events into Kinesis and/or Kafka and lands them in an
# Iceberg (or Delta, or Hudi) table through the local event-source mappings and the real Lambda handlers.
# ./demo.sh --help lists the options: --events N, --batch-size N, --format iceberg|delta|hudi for the demo;
# --job, --jar, --input, --source, --lanes, --table, --mode, --keys, --set, --keep for your own job
# (README "Try your own job"). Relative paths in the options are relative to the directory you run it from.
set -euo pipefail
caller="$PWD"
cd "$(dirname "$0")"
mvn -B -q --no-transfer-progress install -DskipTests
# exec-maven-plugin splits its command line on spaces and honours quotes (no escapes): quote each argument
quoted=()
for arg in "$@"; do
  if [[ "$arg" != *"'"* ]]; then
    quoted+=("'$arg'")
  elif [[ "$arg" != *'"'* ]]; then
    quoted+=("\"$arg\"")
  else
    echo "demo.sh: an argument cannot contain both ' and \": $arg" >&2
    exit 2
  fi
done
exec mvn -B -q --no-transfer-progress -pl examples exec:exec@demo -Ddemo.cwd="$caller" -Ddemo.args="${quoted[*]:-}"
