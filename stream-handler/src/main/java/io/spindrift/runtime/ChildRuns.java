package io.spindrift.runtime;

import io.spindrift.commit.CommitLog;
import io.spindrift.commit.LogSnapshot;
import io.spindrift.event.Batch;
import io.spindrift.event.SourceKind;
import io.spindrift.event.SourceRecord;
import io.spindrift.fanout.ChildResult;
import io.spindrift.fanout.ChildTask;
import io.spindrift.fanout.Exchange;
import io.spindrift.job.JobContext;
import io.spindrift.job.StreamJob;
import io.spindrift.protocol.Faults;
import io.spindrift.protocol.MicroBatch;
import io.spindrift.protocol.StateCommits;
import io.spindrift.sink.Sink;
import io.spindrift.state.StateBucket;
import io.spindrift.state.StateDeltaCodec;
import io.spindrift.state.StateTable;
import java.util.ArrayList;
import java.util.Base64;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;
import org.apache.spark.sql.SparkSession;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What a child executor does with a task (DESIGN §8), in a Lambda container of the child function or a local
 * child process: reads its records from the exchange (one ranged GET), runs the job over them as one micro-batch
 * (a map task: the stateless job; a reduce task: the stateful job keeping only its own partitions), stages the
 * output under the task's stage id, and writes its manifest at the task's deterministic result key. It commits
 * nothing: only the parent does. Queries stay warm between tasks like a container's (a reduce query restarts per
 * task, on the head's checkpoint).
 */
final class ChildRuns {
  private static final Logger LOG = LoggerFactory.getLogger("io.spindrift.child");
  /** A Lambda response holds 6 MB; a larger manifest is answered by its key. */
  private static final int MAX_RESPONSE_CHARS = 5_000_000;

  private final String app;
  private final Supplier<SparkSession> sessions;
  private final StreamJob job;
  private final Sink table;
  private final Sink rejects;
  private final Supplier<StateTable> stateTable;
  private final CommitLog log;
  private final Exchange exchange;
  private final long idleLaneMs;
  private final io.spindrift.job.PayloadDecoders decoders;
  private final Map<SourceKind, MicroBatchQuery> maps = new EnumMap<>(SourceKind.class);
  private final Map<SourceKind, MicroBatchQuery> reduces = new EnumMap<>(SourceKind.class);
  private StateTable state;
  private StateCommits stateCommits;

  ChildRuns(String app, Supplier<SparkSession> sessions, StreamJob job, Sink table, Sink rejects,
      Supplier<StateTable> stateTable, CommitLog log, Exchange exchange, long idleLaneMs,
      io.spindrift.job.PayloadDecoders decoders) {
    this.idleLaneMs = idleLaneMs;
    this.decoders = decoders;
    this.app = app;
    this.sessions = sessions;
    this.job = job;
    this.table = table;
    this.rejects = rejects;
    this.stateTable = stateTable;
    this.log = log;
    this.exchange = exchange;
  }

  synchronized String run(String taskJson) {
    ChildTask task = ChildTask.fromJson(taskJson);
    if (!task.app().equals(app)) {
      throw new IllegalArgumentException("Task of app '" + task.app() + "' sent to a child of app '" + app + "'");
    }
    long start = System.nanoTime();
    List<SourceRecord> records = exchange.readInput(task);
    Batch batch = new Batch(task.kind(), records);
    LogSnapshot snapshot = new LogSnapshot(task.headSeq(), task.headSeq(), Map.of(), task.checkpoint());
    Map<String, Long> timings = new LinkedHashMap<>();
    MicroBatch.Result result;
    String deltas = null;
    List<List<String>> read = new ArrayList<>();
    if (task.role() == ChildTask.Role.MAP) {
      result = maps.computeIfAbsent(task.kind(), kind -> query(kind, null)).run(batch, task.stageId(), snapshot,
          timings);
    } else {
      stateCommits().catchUp(snapshot);
      result = reduces.computeIfAbsent(task.kind(), kind -> query(kind, state)).runOwned(batch, task.stageId(),
          snapshot, timings, task.partitions(), task.partitionCount());
      if (!result.changes().isEmpty()) {
        deltas = Base64.getEncoder().encodeToString(StateDeltaCodec.encode(result.changes().deltas()));
      }
      for (StateBucket bucket : result.changes().bucketsRead()) {
        read.add(List.of(Long.toString(bucket.operatorId()), bucket.storeName(), Integer.toString(bucket.partition())));
      }
    }
    long durationMs = (System.nanoTime() - start) / 1_000_000;
    ChildResult manifest = new ChildResult(task.exchange(), task.role(), task.index(), task.stageId(),
        result.table().ref(), result.table().rows(), result.rejects().ref(), result.rejects().rows(),
        records.size(), deltas, read, result.checkpoint(), durationMs);
    exchange.putResult(app, manifest);
    LOG.info("{{\"app\":\"{}\",\"child\":\"{}\",\"records\":{},\"output\":{},\"durationMs\":{},\"timingsMs\":{}}}",
        app, task.describe(), records.size(), result.table().rows(), durationMs, timings);
    String json = manifest.toJson();
    return json.length() <= MAX_RESPONSE_CHARS ? json
        : "{\"resultKey\":\"" + exchange.resultKey(app, task.exchange(), task.role(), task.index()) + "\"}";
  }

  private StateCommits stateCommits() {
    if (stateCommits == null) {
      state = stateTable.get();
      state.ensureTable();
      stateCommits = new StateCommits(app, log, state, new Faults());
    }
    return stateCommits;
  }

  private MicroBatchQuery query(SourceKind kind, StateTable durable) {
    return new MicroBatchQuery(sessions, job, new JobContext(app, kind, decoders), table, rejects, durable, idleLaneMs);
  }

  synchronized void close() {
    maps.values().forEach(MicroBatchQuery::close);
    reduces.values().forEach(MicroBatchQuery::close);
    maps.clear();
    reduces.clear();
  }
}
