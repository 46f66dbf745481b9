#!/usr/bin/env bash
# Runs every test: unit tests beside the code, then the end-to-end and fault tests on the local stack.
# Does its own set-up (Maven downloads, the Kinesis emulator from npm, starting the local services).
set -euo pipefail
cd "$(dirname "$0")"
exec mvn -B --no-transfer-progress install "$@"
