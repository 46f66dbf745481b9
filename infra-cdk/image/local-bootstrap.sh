#!/usr/bin/env bash
# Starts a handler on this machine the way the public.ecr.aws/lambda/java:17 bootstrap does: the
# same JVM flags (including an explicit -Xshare:on -XX:SharedArchiveFile=<static base archive>),
# the runtime interface client's main class, AWS_LAMBDA_EXEC_WRAPPER honoured. Used by
# prepare-image.sh's training run and by the tests, so both start the JVM with one command line
# (an AppCDS archive is only used when the class path and options match its training run).
# Needs: _HANDLER, AWS_LAMBDA_RUNTIME_API, LAMBDA_TASK_ROOT, SPINDRIFT_RUNTIME_LIB (a directory with
# the runtime interface client and its dependencies). Optional: SPINDRIFT_JAVA (java executable).
set -euo pipefail
: "${_HANDLER:?set _HANDLER to the handler string, e.g. io.spindrift.handler.KinesisHandler::handleRequest}"
: "${AWS_LAMBDA_RUNTIME_API:?set AWS_LAMBDA_RUNTIME_API to host:port of a Lambda Runtime API}"
: "${LAMBDA_TASK_ROOT:?set LAMBDA_TASK_ROOT to the task directory (holding lib/*.jar)}"
runtime_lib="${SPINDRIFT_RUNTIME_LIB:?set SPINDRIFT_RUNTIME_LIB to the directory holding the runtime interface client jars}"
java="${SPINDRIFT_JAVA:-java}"

java_home=$("$java" -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java.home = //p')
base_archive="$java_home/lib/server/classes.jsa"
classpath=$(find "$runtime_lib" -maxdepth 1 -name '*.jar' | LC_ALL=C sort | paste -sd: -)
[[ -n "$classpath" ]] || { echo "local-bootstrap: no jars in $runtime_lib" >&2; exit 1; }

cmd=("$java"
  -XX:+UseSerialGC
  -Xshare:on "-XX:SharedArchiveFile=$base_archive"
  -XX:+TieredCompilation -XX:TieredStopAtLevel=1
  --add-opens=java.base/java.io=ALL-UNNAMED
  -Djava.net.preferIPv4Stack=true
  -XX:+ErrorFileToStderr
  -classpath "$classpath"
  com.amazonaws.services.lambda.runtime.api.client.AWSLambda "$_HANDLER")
# The runtime client loads the function from its working directory (user.dir), as Lambda starts
# it in /var/task.
cd "$LAMBDA_TASK_ROOT"
if [[ -n "${AWS_LAMBDA_EXEC_WRAPPER:-}" ]]; then
  exec "$AWS_LAMBDA_EXEC_WRAPPER" "${cmd[@]}"
fi
exec "${cmd[@]}"
