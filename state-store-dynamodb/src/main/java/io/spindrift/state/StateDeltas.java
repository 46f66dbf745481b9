package io.spindrift.state;

import java.util.ArrayList;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Where the state stores of one Spark query run find their durable state and leave what they commit. The runtime
 * {@link #open}s a run before it starts the query (with the provider selected through {@link
 * DynamoDbStateStoreProvider#sparkConf}), calls {@link #drain} after each micro-batch to take that batch's
 * deltas into its own commit, and {@link #close}s the run with the query. Nothing here writes to DynamoDB: a
 * store's {@code commit()} only hands its delta over. Part of the per-container runtime (Spark creates providers
 * by class name, in the same JVM in local mode).
 */
public final class StateDeltas {
  private static final Map<String, Run> RUNS = new ConcurrentHashMap<>();

  private StateDeltas() {}

  /** Binds run {@code runId} to {@code table}: its stores read from it and their deltas wait here. */
  public static void open(String runId, StateTable table) {
    open(runId, table, null);
  }

  /**
   * As {@link #open(String, StateTable)}, for a fan-out reduce child that owns only {@code ownedPartitions} (null:
   * all): its stores of other partitions read nothing, keep nothing and never reach DynamoDB.
   */
  public static void open(String runId, StateTable table, Set<Integer> ownedPartitions) {
    Objects.requireNonNull(table, "table");
    if (RUNS.putIfAbsent(runId, new Run(table, ownedPartitions)) != null) {
      throw new IllegalStateException("State run " + runId + " is already open");
    }
  }

  /** Takes everything the run's stores committed and read since the last drain; the run stays open. */
  public static StateChanges drain(String runId) {
    return run(runId).drain();
  }

  /** Forgets the run; deltas not drained are dropped (the batch they belong to was not committed). */
  public static void close(String runId) {
    RUNS.remove(runId);
  }

  static StateTable table(String runId) {
    return run(runId).table;
  }

  /** True if the run's stores of {@code partition} serve and keep state (every partition, unless a child's). */
  static boolean owns(String runId, int partition) {
    Set<Integer> owned = run(runId).owned;
    return owned == null || owned.contains(partition);
  }

  /** Keeps the delta a store committed; a retried task of the same batch replaces its earlier attempt's delta. */
  static void collect(String runId, long sparkVersion, StateDelta delta) {
    run(runId).collect(sparkVersion, delta);
  }

  static void recordRead(String runId, StateBucket bucket) {
    run(runId).read.add(bucket);
  }

  private static Run run(String runId) {
    Run run = RUNS.get(runId);
    if (run == null) {
      throw new IllegalStateException("No Spindrift state run '" + runId + "' is open in this JVM: the DynamoDB"
          + " state store serves only queries the Spindrift runtime started (StateDeltas.open)");
    }
    return run;
  }

  /** A delta and the Spark state version its store was opened at. */
  private record Versioned(long sparkVersion, StateDelta delta) {}

  private static final class Run {
    private final StateTable table;
    private final Set<Integer> owned;
    private final Map<StateBucket, Versioned> deltas = new ConcurrentHashMap<>();
    private final Set<StateBucket> read = ConcurrentHashMap.newKeySet();

    Run(StateTable table, Set<Integer> owned) {
      this.table = table;
      this.owned = owned == null ? null : Set.copyOf(owned);
    }

    void collect(long sparkVersion, StateDelta delta) {
      deltas.merge(delta.bucket(), new Versioned(sparkVersion, delta), (earlier, later) -> {
        if (earlier.sparkVersion() != later.sparkVersion()) {
          throw new IllegalStateException("State of Spark batch " + earlier.sparkVersion() + " for " + delta.bucket()
              + " was not drained before batch " + later.sparkVersion() + " committed");
        }
        return later;
      });
    }

    synchronized StateChanges drain() {
      var taken = new ArrayList<StateDelta>();
      for (StateBucket bucket : Set.copyOf(deltas.keySet())) {
        Versioned versioned = deltas.remove(bucket);
        if (versioned != null) {
          taken.add(versioned.delta());
        }
      }
      Set<StateBucket> readNow = Set.copyOf(read);
      read.removeAll(readNow);
      taken.sort((a, b) -> a.bucket().id().compareTo(b.bucket().id()));
      return new StateChanges(taken, readNow);
    }
  }
}
