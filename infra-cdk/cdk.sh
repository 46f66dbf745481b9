#!/usr/bin/env bash
# Runs the AWS CDK CLI on the Spindrift app: `infra-cdk/cdk.sh [cdk arguments]` (default: synth).
#  1. installs the pinned CLI from npm into infra-cdk/.cdk-cli/ (once per version);
#  2. builds the app with Maven (target/classes, target/cdk-classpath.txt; cdk.json runs it);
#  3. for deploy: prepares the image contents with the CDS archive trained in the base image
#     (image/prepare-image.sh --in-base-image; needs Docker, as cdk deploy does to build the image);
#  4. runs cdk from infra-cdk/ with notices and telemetry off.
# Environment: SPINDRIFT_SKIP_BUILD=1 skips step 2 (classes already built), SPINDRIFT_SKIP_IMAGE=1
# skips step 3 (image/build/task already prepared), SPINDRIFT_TRAINING_STACK_ENV=FILE trains the CDS
# archive against a running local stack (prepare-image.sh --stack-env FILE) for a fuller archive.
set -euo pipefail
CDK_CLI_VERSION=2.1148.1   # a 2.x CLI reads the cloud assembly of aws-cdk-lib 2.263.0 (schema 54)

module_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo_dir=$(dirname "$module_dir")
cli_dir="$module_dir/.cdk-cli"
cdk="$cli_dir/node_modules/.bin/cdk"

install_cli() {
  if [[ -x "$cdk" && "$(cat "$cli_dir/installed-version" 2>/dev/null)" == "$CDK_CLI_VERSION" ]]; then
    return
  fi
  echo "cdk.sh: installing aws-cdk@$CDK_CLI_VERSION into $cli_dir" >&2
  mkdir -p "$cli_dir"
  npm install --prefix "$cli_dir" --no-audit --no-fund --no-package-lock --loglevel=error "aws-cdk@$CDK_CLI_VERSION" >&2
  echo "$CDK_CLI_VERSION" >"$cli_dir/installed-version"
}

build_app() {
  [[ "${SPINDRIFT_SKIP_BUILD:-}" == 1 ]] && return
  (cd "$repo_dir" && flock /tmp/spindrift-mvn.lock mvn -B --no-transfer-progress -q -pl infra-cdk process-classes)
}

prepare_image() {
  [[ "${SPINDRIFT_SKIP_IMAGE:-}" == 1 ]] && return
  job_args=()
  IFS=: read -r -a job_jar_list <<<"${SPINDRIFT_JOB_JARS:-}"
  for job_jar in ${job_jar_list[@]+"${job_jar_list[@]}"}; do job_args+=(--job-jar "$job_jar"); done
  "$module_dir/image/prepare-image.sh" --in-base-image ${job_args[@]+"${job_args[@]}"} ${SPINDRIFT_TRAINING_STACK_ENV:+--stack-env "$SPINDRIFT_TRAINING_STACK_ENV"}
}

[[ $# -gt 0 ]] || set -- synth
install_cli
build_app
case "$1" in deploy) prepare_image ;; esac

export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION=20 CDK_DISABLE_CLI_TELEMETRY=true
if [[ "$1" == synth ]]; then
  # Synth needs no account: do not let the SDK probe the instance metadata service for one.
  export AWS_EC2_METADATA_DISABLED=true
fi
cd "$module_dir"
exec "$cdk" "$@" --no-notices
