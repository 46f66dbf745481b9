package io.spindrift.fanout;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.spindrift.event.SourceKind;
import java.util.List;

/**
 * One child executor's work, as the parent sends it (JSON, the invoke payload). A child reads its records with one
 * ranged GET of the exchange's input object, runs the job over them and stages its output under {@code stageId}
 * (unique per attempt, so a duplicate or retried child never overwrites files another attempt's manifest lists),
 * then writes its {@link ChildResult} at the deterministic key of ({@code exchange}, {@code role}, {@code index}).
 *
 * @param role {@link Role#MAP}: a stateless job over one split; {@link Role#PARTITION}: a stateful job's map side,
 *     routing one split's records by the state partitions their rows feed (of {@code partitionCount}, owned by
 *     {@code reducers} reducers); {@link Role#COMBINE}: the middle of a two-level exchange, gathering a group of
 *     partition maps' objects into one with a block per reducer; {@link Role#REDUCE}: a stateful job over the records routed to it ({@code reads},
 *     or the whole input when empty), keeping only rows of its own state {@code partitions} before the stateful
 *     operator
 * @param reads the ranges of the exchange's objects a reducer reads (empty: the input's range), or the whole map
 *     objects a {@link Role#COMBINE combiner} gathers
 * @param indexes a combiner's map objects' block indexes, in the order of {@code reads}
 * @param launch the tasks a {@link Role#LAUNCH launcher} invokes (a tree of invokes, {@link InvokeTree})
 * @param newestPerLane the whole batch's newest event time per lane, combined from the partition maps (a reducer
 *     sees only its records; null: computed from the records it has)
 * @param headSeq the commit the batch runs after (its state and watermark); -1 for none
 * @param checkpoint the head's query checkpoint (stateful; null for none)
 * @param splits a batch run's input splits a map or partition map reads itself from the input objects, instead of
 *     a range of the exchange's input object (empty: it reads {@code inputKey})
 * @param after the lane's committed position when {@code splits} were sent: the child keeps only their records
 *     after it (null: all)
 */
public record ChildTask(String app, SourceKind kind, String exchange, Role role, int index, String stageId,
    String inputKey, long inputOffset, long inputLength, List<Integer> partitions, int partitionCount,
    long headSeq, String checkpoint, int reducers, List<Exchange.Range> reads,
    java.util.Map<String, Long> newestPerLane, List<List<Long>> indexes, List<ChildTask> launch,
    List<S3Split> splits, String after) {
  private static final ObjectMapper JSON = new ObjectMapper();

  public enum Role { MAP, PARTITION, COMBINE, REDUCE, LAUNCH }

  @com.fasterxml.jackson.annotation.JsonCreator
  public ChildTask {
    partitions = List.copyOf(partitions);
    reads = reads == null ? List.of() : List.copyOf(reads);
    indexes = indexes == null ? List.of() : List.copyOf(indexes);
    launch = launch == null ? List.of() : List.copyOf(launch);
    splits = splits == null ? List.of() : List.copyOf(splits);
  }

  /** A task that starts nothing else and reads no input splits. */
  public ChildTask(String app, SourceKind kind, String exchange, Role role, int index, String stageId,
      String inputKey, long inputOffset, long inputLength, List<Integer> partitions, int partitionCount,
      long headSeq, String checkpoint, int reducers, List<Exchange.Range> reads,
      java.util.Map<String, Long> newestPerLane, List<List<Long>> indexes, List<ChildTask> launch) {
    this(app, kind, exchange, role, index, stageId, inputKey, inputOffset, inputLength, partitions, partitionCount,
        headSeq, checkpoint, reducers, reads, newestPerLane, indexes, launch, null, null);
  }

  /** A task that starts nothing else. */
  public ChildTask(String app, SourceKind kind, String exchange, Role role, int index, String stageId,
      String inputKey, long inputOffset, long inputLength, List<Integer> partitions, int partitionCount,
      long headSeq, String checkpoint, int reducers, List<Exchange.Range> reads,
      java.util.Map<String, Long> newestPerLane, List<List<Long>> indexes) {
    this(app, kind, exchange, role, index, stageId, inputKey, inputOffset, inputLength, partitions, partitionCount,
        headSeq, checkpoint, reducers, reads, newestPerLane, indexes, null, null, null);
  }

  /** A launcher of a tree of invokes ({@link InvokeTree}): it invokes {@code tasks}, in order. */
  static ChildTask launcher(String app, SourceKind kind, String exchange, int index, List<ChildTask> tasks) {
    return new ChildTask(app, kind, exchange, Role.LAUNCH, index, null, null, 0, 0, List.of(), 0, -1, null, 0,
        List.of(), null, null, tasks);
  }

  /** The same task under a new attempt's stage id. */
  ChildTask withStageId(String stageId) {
    return new ChildTask(app, kind, exchange, role, index, stageId, inputKey, inputOffset, inputLength, partitions,
        partitionCount, headSeq, checkpoint, reducers, reads, newestPerLane, indexes, launch, splits, after);
  }

  /** A short name for logs and errors: {@code map 3 of exchange ab12…}. */
  public String describe() {
    return role.name().toLowerCase(java.util.Locale.ROOT) + " " + index + " of exchange " + exchange;
  }

  public String toJson() {
    try {
      return JSON.writeValueAsString(this);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException(e);
    }
  }

  public static ChildTask fromJson(String json) {
    try {
      return JSON.readValue(json, ChildTask.class);
    } catch (JsonProcessingException e) {
      throw new IllegalArgumentException("Not a Spindrift child task: " + e.getOriginalMessage(), e);
    }
  }
}
