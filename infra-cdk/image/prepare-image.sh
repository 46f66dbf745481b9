#!/usr/bin/env bash
# Prepares the contents of the Spindrift Lambda image in image/build/task/, which the Dockerfile
# only COPYs:
#   lib/spindrift-lambda.jar  the shaded handler jar (from stream-handler)
#   lib/job-*.jar             the user's job jars (--job-jar), on the function's classpath beside it
#   bin/spindrift-java        the exec wrapper      conf/jvm.options  JVM options
#   cds/spindrift.jsa         an AppCDS archive     cds/archive.properties  what trained it
# The archive is recorded by a training run: the real runtime interface client starts the handler
# exactly as the Lambda bootstrap does (local-bootstrap.sh, or the base image itself with
# --in-base-image), receives an AWS-shaped Kinesis event from a local Runtime API, and the JVM
# writes the classes it loaded at exit (-XX:ArchiveClassesAtExit).
#
# With --stack-env (endpoints of a running local stack) the training run goes the whole way: the
# handler commits the batch (Spark, Iceberg, DynamoDB and S3 clients all loaded), so the archive
# covers the first invocation, not only start-up. Without it every AWS endpoint is unreachable and
# the archive stops at the handler's first AWS call.
#
# A CDS archive is only accepted by the JVM build that wrote it. Without --in-base-image the
# archive is trained with this machine's java: right for testing here, ignored (with a warning,
# harmlessly) by the image's JVM. For an image you deploy, run with --in-base-image on a machine
# with Docker (cdk.sh deploy does).
set -euo pipefail

image_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
module_dir=$(dirname "$image_dir")
repo_dir=$(dirname "$module_dir")

jar="$repo_dir/stream-handler/target/spindrift-lambda.jar"
out="$image_dir/build"
java="${JAVA_HOME:+$JAVA_HOME/bin/}java"
runtime_lib="$module_dir/target/lambda-runtime"
fixture_classes="$module_dir/target/classes"
training_env="$image_dir/training/training.env"
stack_env=""
stack_overrides=()
training_outcome=""
event="$image_dir/training/kinesis-event.json"
handler="io.spindrift.handler.KinesisHandler::handleRequest"
train=true
in_base_image=false
job_jars=()
timeout_s=300

usage() {
  cat <<USAGE
usage: $(basename "$0") [options]
  --jar PATH           shaded handler jar (default: stream-handler/target/spindrift-lambda.jar)
  --out DIR            output directory (default: infra-cdk/image/build; the Dockerfile copies DIR/task)
  --java PATH          java for the local training run (default: \$JAVA_HOME/bin/java or java)
  --runtime-lib DIR    runtime interface client jars for the local run (default: infra-cdk/target/lambda-runtime)
  --training-env FILE  KEY=VALUE environment of the training run (default: image/training/training.env)
  --stack-env FILE     KEY=VALUE settings of a running local stack, layered over the training env:
                       SPINDRIFT_S3_ENDPOINT, SPINDRIFT_DYNAMODB_ENDPOINT, SPINDRIFT_ACCESS_KEY,
                       SPINDRIFT_SECRET_KEY (and any other SPINDRIFT_*). The script creates
                       SPINDRIFT_BUCKET, trains as a fresh app, and fails unless the batch commits.
  --event FILE         event for the training run (default: image/training/kinesis-event.json)
  --handler STRING     handler of the training run (default: $handler)
  --timeout SECONDS    longest wait for the training invocation (default: $timeout_s)
  --in-base-image      train inside the Dockerfile's base image (needs a Docker engine)
  --job-jar PATH        a jar with the job's classes (SPINDRIFT_JOB); repeatable; a SQL job on S3 needs none
  --no-cds             lay out the jar only, no archive
USAGE
}

die() { echo "prepare-image: error: $*" >&2; exit 1; }
note() { echo "prepare-image: $*" >&2; }

while [[ $# -gt 0 ]]; do
  case "$1" in
    --jar) jar="$2"; shift 2 ;;
    --out) out="$2"; shift 2 ;;
    --java) java="$2"; shift 2 ;;
    --runtime-lib) runtime_lib="$2"; shift 2 ;;
    --training-env) training_env="$2"; shift 2 ;;
    --stack-env) stack_env="$2"; shift 2 ;;
    --event) event="$2"; shift 2 ;;
    --handler) handler="$2"; shift 2 ;;
    --timeout) timeout_s="$2"; shift 2 ;;
    --in-base-image) in_base_image=true; shift ;;
    --job-jar) [[ -f "$2" ]] || die "job jar not found: $2"; job_jars+=("$2"); shift 2 ;;
    --no-cds) train=false; shift ;;
    -h|--help) usage; exit 0 ;;
    *) usage >&2; die "unknown option $1" ;;
  esac
done

check_jar() {
  [[ -f "$jar" ]] || die "handler jar not found: $jar
  It is the shaded jar the stream-handler module builds. Build it, then run this script again:
    cd $repo_dir && flock /tmp/spindrift-mvn.lock mvn -B --no-transfer-progress -pl stream-handler -am package -DskipTests"
  local entries
  entries=$(python3 -c 'import sys, zipfile; print("\n".join(zipfile.ZipFile(sys.argv[1]).namelist()))' "$jar") \
    || die "$jar is not a readable jar"
  local class="${handler%%::*}"
  grep -qx "${class//.//}.class" <<<"$entries" \
    || die "$jar has no ${class//.//}.class: is it the shaded handler jar? (handler: $handler)"
}

lay_out() {
  rm -rf "$out/task"
  mkdir -p "$out/task/lib" "$out/task/bin" "$out/task/conf" "$out/task/cds"
  cp "$jar" "$out/task/lib/spindrift-lambda.jar"
  local job_jar
  for job_jar in ${job_jars[@]+"${job_jars[@]}"}; do
    cp "$job_jar" "$out/task/lib/job-$(basename "$job_jar")"
  done
  install -m 0755 "$image_dir/spindrift-java" "$out/task/bin/spindrift-java"
  install -m 0644 "$image_dir/jvm.options" "$out/task/conf/jvm.options"
}

ensure_fixture_built() {
  if [[ -f "$fixture_classes/io/spindrift/infra/image/LocalRuntimeApi.class" && -d "$runtime_lib" ]]; then
    return
  fi
  note "building infra-cdk (local Runtime API, runtime interface client jars)"
  (cd "$repo_dir" && flock /tmp/spindrift-mvn.lock mvn -B --no-transfer-progress -q -pl infra-cdk process-classes) \
    || die "could not build infra-cdk"
}

# The value of one setting of the training run: the training env, then the stack env over it.
training_setting() {
  (
    set -a
    # shellcheck disable=SC1090
    source "$training_env"
    # shellcheck disable=SC1090
    [[ -z "$stack_env" ]] || source "$stack_env"
    printf '%s' "${!1:-}"
  )
}

# Checks the stack settings, creates the bucket the runtime expects (it never creates one) and picks
# a fresh app name, so that a stack which saw an earlier training run still commits a new batch
# instead of answering a duplicate. Sets training_app and stack_overrides: the app, and the stack's
# keys also as AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, because the Iceberg catalog's DynamoDB client
# takes the default credential chain, not SPINDRIFT_ACCESS_KEY.
prepare_stack() {
  [[ -f "$stack_env" ]] || die "--stack-env file not found: $stack_env"
  local key s3 bucket status
  for key in SPINDRIFT_S3_ENDPOINT SPINDRIFT_DYNAMODB_ENDPOINT SPINDRIFT_ACCESS_KEY SPINDRIFT_SECRET_KEY; do
    [[ -n "$(training_setting "$key")" ]] || die "$stack_env sets no $key: the training run would reach for AWS"
  done
  s3=$(training_setting SPINDRIFT_S3_ENDPOINT)
  bucket=$(training_setting SPINDRIFT_BUCKET)
  bucket=${bucket:-spindrift}
  status=$(curl -sS -o /dev/null -w '%{http_code}' -X PUT "$s3/$bucket") \
    || die "cannot reach SPINDRIFT_S3_ENDPOINT=$s3 from $stack_env: is the local stack running?"
  [[ "$status" == 200 || "$status" == 409 ]] \
    || die "creating the bucket $bucket at SPINDRIFT_S3_ENDPOINT=$s3 failed with HTTP $status"
  training_app="$(training_setting SPINDRIFT_APP)-$(date +%s)-$$"
  stack_overrides=("SPINDRIFT_APP=$training_app" "AWS_ACCESS_KEY_ID=$(training_setting SPINDRIFT_ACCESS_KEY)"
    "AWS_SECRET_ACCESS_KEY=$(training_setting SPINDRIFT_SECRET_KEY)")
  note "training against the local stack in $stack_env as app $training_app (bucket $bucket)"
}

base_image() {
  sed -n 's/^ARG BASE_IMAGE=//p' "$image_dir/Dockerfile" | head -1
}

# Starts the local Runtime API; sets fixture_pid, port, results.
start_runtime_api() {
  work=$(mktemp -d)
  results="$work/results"
  "$java" -cp "$fixture_classes" io.spindrift.infra.image.LocalRuntimeApi \
    --event "$event" --port-file "$work/port" --result-dir "$results" &
  fixture_pid=$!
  local deadline=$((SECONDS + 30))
  until [[ -s "$work/port" ]]; do
    kill -0 "$fixture_pid" 2>/dev/null || die "local Runtime API exited"
    ((SECONDS < deadline)) || die "local Runtime API did not start within 30 s"
    sleep 0.1
  done
  port=$(cat "$work/port")
}

# Waits for the first result of the training invocation; prints its file.
await_result() {
  local runtime_pid="$1" deadline=$((SECONDS + timeout_s)) found
  while :; do
    found=$(find "$results" -name '*.json' 2>/dev/null | LC_ALL=C sort | head -1)
    [[ -n "$found" ]] && { echo "$found"; return; }
    kill -0 "$runtime_pid" 2>/dev/null || { echo ""; return; }
    ((SECONDS < deadline)) || { echo ""; return; }
    sleep 0.2
  done
}

train_locally() {
  start_runtime_api
  (
    set -a
    # shellcheck disable=SC1090
    source "$training_env"
    if [[ -n "$stack_env" ]]; then
      # shellcheck disable=SC1090
      source "$stack_env"
      export "${stack_overrides[@]}"
    fi
    set +a
    export AWS_LAMBDA_RUNTIME_API="127.0.0.1:$port" _HANDLER="$handler" LAMBDA_TASK_ROOT="$out/task" \
      AWS_LAMBDA_EXEC_WRAPPER="$out/task/bin/spindrift-java" SPINDRIFT_RUNTIME_LIB="$runtime_lib" SPINDRIFT_JAVA="$java" \
      JAVA_TOOL_OPTIONS="-XX:ArchiveClassesAtExit=$out/task/cds/spindrift.jsa"
    exec "$image_dir/local-bootstrap.sh"
  ) >"$work/runtime.log" 2>&1 &
  local runtime_pid=$!
  finish_training "$runtime_pid" "kill -TERM $runtime_pid"
  "$java" -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java.vm.version = /trained.jvm=/p' >"$out/task/cds/archive.properties"
  echo "trained.where=local" >>"$out/task/cds/archive.properties"
  echo "trained.invocation=$training_outcome" >>"$out/task/cds/archive.properties"
}

train_in_base_image() {
  command -v docker >/dev/null && docker info >/dev/null 2>&1 \
    || die "--in-base-image needs a running Docker engine (docker info failed)"
  local image name="spindrift-cds-training-$$" stack_args=() setting
  image=$(base_image)
  if [[ -n "$stack_env" ]]; then
    stack_args=(--env-file "$stack_env")
    for setting in "${stack_overrides[@]}"; do stack_args+=(-e "$setting"); done
  fi
  start_runtime_api
  docker run --rm --name "$name" --network host \
    -v "$out/task:/var/task" \
    --env-file "$training_env" "${stack_args[@]}" \
    -e AWS_LAMBDA_RUNTIME_API="127.0.0.1:$port" \
    -e AWS_LAMBDA_EXEC_WRAPPER=/var/task/bin/spindrift-java \
    -e JAVA_TOOL_OPTIONS="-XX:ArchiveClassesAtExit=/var/task/cds/spindrift.jsa" \
    "$image" "$handler" >"$work/runtime.log" 2>&1 &
  local runtime_pid=$!
  finish_training "$runtime_pid" "docker stop --time 120 $name"
  { echo "trained.jvm=$(docker run --rm --entrypoint /var/lang/bin/java "$image" -XshowSettings:properties -version 2>&1 \
      | sed -n 's/^ *java.vm.version = //p')"; echo "trained.where=$image"
    echo "trained.invocation=$training_outcome"; } >"$out/task/cds/archive.properties"
}

# Whether a response file reports no failed records: with a local stack, the batch committed.
committed() {
  python3 -c 'import json, sys; sys.exit(0 if json.load(open(sys.argv[1])).get("batchItemFailures") == [] else 1)' "$1"
}

# Waits for the training invocation, stops the runtime (the JVM writes the archive as it exits)
# and the Runtime API. Sets training_outcome.
finish_training() {
  local runtime_pid="$1" stop="$2" result
  result=$(await_result "$runtime_pid")
  $stop >/dev/null 2>&1 || true
  wait "$runtime_pid" 2>/dev/null || true
  kill "$fixture_pid" 2>/dev/null || true
  wait "$fixture_pid" 2>/dev/null || true
  case "$result" in
    "") tail -30 "$work/runtime.log" >&2; die "the training run produced no result within ${timeout_s} s (log above)" ;;
    *-init_error.json) tail -30 "$work/runtime.log" >&2
       die "the runtime could not initialise $handler: $(cat "$result")" ;;
    *-error.json) if grep -qE '"Class not found: |No public method named' "$result"; then
         die "the runtime could not find the handler $handler in the jar: $(cat "$result")"
       fi
       if [[ -n "$stack_env" ]]; then
         tail -30 "$work/runtime.log" >&2
         die "the training invocation failed against the local stack in $stack_env, so the archive would miss the commit path: $(head -c 400 "$result")"
       fi
       training_outcome="failed at the first AWS call (no local stack)"
       note "the training invocation returned an error (expected without a local stack; see training.env):"
       note "  $(head -c 400 "$result")" ;;
    *) if [[ -n "$stack_env" ]]; then
         committed "$result" || die "the training batch did not commit on the local stack: $(head -c 400 "$result")"
         training_outcome="committed a batch on a local stack"
       else
         training_outcome="answered without a local stack"
       fi
       note "the training invocation returned: $(head -c 200 "$result")" ;;
  esac
  [[ -s "$out/task/cds/spindrift.jsa" ]] || { tail -30 "$work/runtime.log" >&2; die "no CDS archive was written"; }
  rm -rf "$work"
}

check_jar
lay_out
if $train; then
  ensure_fixture_built
  [[ -z "$stack_env" ]] || prepare_stack
  if $in_base_image; then train_in_base_image; else train_locally; fi
fi
note "image contents in $out/task ($(du -sh "$out/task" | cut -f1)):"
(cd "$out/task" && find . -type f -printf '  %p %s bytes\n' | LC_ALL=C sort) >&2
