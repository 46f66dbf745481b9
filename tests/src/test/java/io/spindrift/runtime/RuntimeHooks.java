package io.spindrift.runtime;

import io.spindrift.event.SourceKind;
import io.spindrift.protocol.Faults;
import io.spindrift.state.StateIoCounts;

/**
 * What the end-to-end and fault tests may reach inside a runtime and a user's code may not: its crash points, its
 * state store's request counts and how many stateful queries it started. Lives beside the runtime in the test
 * sources only, so these hooks are not part of the runtime's public surface.
 */
public final class RuntimeHooks {
  private RuntimeHooks() {}

  /** The crash points of {@code runtime}'s commit protocol. */
  public static Faults faults(SpindriftRuntime runtime) {
    return runtime.faults();
  }

  /** DynamoDB requests of {@code runtime}'s state store for {@code kind}'s batches (null: stateless, or none yet). */
  public static StateIoCounts stateIo(SpindriftRuntime runtime, SourceKind kind) {
    return runtime.stateIo(kind);
  }

  /** How many stateful queries {@code runtime} started for {@code kind}'s batches. */
  public static long statefulQueryStarts(SpindriftRuntime runtime, SourceKind kind) {
    return runtime.statefulQueryStarts(kind);
  }

  /** A new Spark session of {@code runtime}, as its queries get one. */
  public static org.apache.spark.sql.SparkSession newSession(SpindriftRuntime runtime) {
    return runtime.newSession();
  }
}
