#!/usr/bin/env bash
# Installs the Kinesis emulator (kinesalite, from npm) into local-stack/.kinesis-emulator/.
# LocalStack runs this when node_modules/kinesalite/cli.js is missing; it is safe to run again.
# Usage: install-kinesis-emulator.sh [version]   (default 3.3.3; LocalStack passes kinesalite.version from the parent pom)
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
version="${1:-3.3.3}"
target="$here/.kinesis-emulator"

command -v node >/dev/null || { echo "node is not on PATH: install Node.js 18+ to run the Kinesis emulator" >&2; exit 1; }
command -v npm >/dev/null || { echo "npm is not on PATH: install Node.js 18+ (with npm) to run the Kinesis emulator" >&2; exit 1; }

mkdir -p "$target"
if [ ! -f "$target/package.json" ]; then
  printf '{\n  "name": "spindrift-kinesis-emulator",\n  "private": true\n}\n' > "$target/package.json"
fi
npm install --prefix "$target" --no-audit --no-fund --loglevel=error "kinesalite@$version"
test -f "$target/node_modules/kinesalite/cli.js"
echo "kinesalite $version installed in $target"
