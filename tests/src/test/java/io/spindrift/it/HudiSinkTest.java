package io.spindrift.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.spindrift.config.Setting;
import io.spindrift.examples.Clickstream;
import io.spindrift.examples.ClickstreamGenerator;
import io.spindrift.runtime.SpindriftRuntime;
import io.spindrift.sink.CommitTag;
import io.spindrift.sink.PendingPublish;
import io.spindrift.sink.Sink;
import io.spindrift.sink.SinkContext;
import io.spindrift.sink.SinkSpec;
import io.spindrift.sink.Sinks;
import io.spindrift.sink.StageRows;
import io.spindrift.sink.StagedOutput;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.spark.scheduler.SparkListener;
import org.apache.spark.scheduler.SparkListenerJobStart;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.catalyst.InternalRow;
import org.apache.spark.sql.catalyst.expressions.GenericInternalRow;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.Decimal;
import org.apache.spark.sql.types.StructType;
import org.apache.spark.unsafe.types.UTF8String;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The Hudi sink end to end: the real Kinesis handler with {@code SPINDRIFT_SINK_FORMAT=hudi} on the local stack,
 * under duplicates, retries and crashes, and the sink's stage and publish driven directly for upserts, schema
 * changes and concurrent publishers. Tables are read back with plain Spark ({@code format("hudi")} over plain S3A
 * settings, {@link TestPipeline#s3aReader}) and the commit files of Hudi's timeline as plain JSON.
 */
class HudiSinkTest {
  private static final StructType KV = new StructType().add("k", DataTypes.StringType).add("v", DataTypes.LongType);

  private static SpindriftRuntime runtime(String app, String... settings) {
    Map<String, String> overrides = new HashMap<>(Map.of("SPINDRIFT_SINK_FORMAT", "hudi"));
    for (int i = 0; i < settings.length; i += 2) {
      overrides.put(settings[i], settings[i + 1]);
    }
    return TestPipeline.runtime(app, overrides);
  }

  private static String path(SpindriftRuntime runtime, String table) {
    return "s3a://" + runtime.config().bucket() + "/warehouse/it/" + table;
  }

  private static Dataset<Row> table(SpindriftRuntime runtime, String table) {
    return TestPipeline.s3aReader(runtime).read().format("hudi").load(path(runtime, table));
  }

  /** The extraMetadata of the table's completed commits ({@code .commit} or {@code .deltacommit}), oldest first. */
  private static List<Row> commits(SpindriftRuntime runtime, String table) throws Exception {
    SparkSession session = TestPipeline.s3aReader(runtime);
    List<Row> out = new ArrayList<>();
    for (String action : List.of("commit", "deltacommit")) {
      org.apache.hadoop.fs.Path glob = new org.apache.hadoop.fs.Path(path(runtime, table) + "/.hoodie/*." + action);
      var files = glob.getFileSystem(session.sessionState().newHadoopConf()).globStatus(glob);
      if (files != null && files.length > 0) {
        out.addAll(session.read().option("multiLine", "true").json(glob.toString())
            .selectExpr("substring_index(input_file_name(), '/', -1) AS file", "extraMetadata")
            .where("extraMetadata.`spindrift.app` IS NOT NULL").collectAsList());
      }
    }
    out.sort((a, b) -> a.getString(0).compareTo(b.getString(0)));
    return out;
  }

  /** A commit's {@link CommitTag} entry (JSON inference reads the metadata map as a struct). */
  private static String tag(Row commit, String key) {
    return commit.getStruct(1).getAs(key);
  }

  // --- the sink driven directly ---

  private static Sink sink(SpindriftRuntime runtime, SinkSpec spec, String... settings) {
    return Sinks.create(spec, context(runtime, settings));
  }

  /** The sink of a rejects table, as the runtime builds it. */
  private static Sink rejectsSink(SpindriftRuntime runtime, SinkSpec spec, String... settings) {
    return Sinks.createRejects(spec, context(runtime, settings));
  }

  private static SinkContext context(SpindriftRuntime runtime, String... settings) {
    Map<String, String> all = new HashMap<>(runtime.config().asMap());
    for (int i = 0; i < settings.length; i += 2) {
      all.put(settings[i], settings[i + 1]);
    }
    return new SinkContext(runtime.config().app(), runtime.spark(), runtime.catalog(),
        runtime.config().stageLocation(), all);
  }

  private static StageRows kv(Object... pairs) {
    List<InternalRow> rows = new ArrayList<>();
    for (int i = 0; i < pairs.length; i += 2) {
      rows.add(new GenericInternalRow(new Object[] {UTF8String.fromString((String) pairs[i]), pairs[i + 1]}));
    }
    return new StageRows(KV, rows);
  }

  private static PendingPublish stage(Sink sink, String app, long seq, StageRows rows) {
    String txnId = UUID.randomUUID().toString();
    StagedOutput staged = sink.stage(txnId, rows);
    return new PendingPublish(new CommitTag(app, seq, txnId, "test#" + seq), staged.ref());
  }

  private static Map<String, Long> values(SpindriftRuntime runtime, String table) {
    Map<String, Long> out = new HashMap<>();
    table(runtime, table).select("k", "v").collectAsList().forEach(r -> out.put(r.getString(0), r.getLong(1)));
    return out;
  }

  @ParameterizedTest
  @ValueSource(strings = {"COPY_ON_WRITE", "MERGE_ON_READ"})
  void upsertKeepsTheLastRowOfEachKeyInCommitOrder(String tableType) throws Exception {
    String app = TestPipeline.uniqueApp("hudi_upsert");
    SpindriftRuntime runtime = runtime(app);
    Sink sink = sink(runtime, new SinkSpec(SinkSpec.Format.HUDI, "it." + app, SinkSpec.Mode.UPSERT,
        List.of("k"), null), "SPINDRIFT_HUDI_TABLE_TYPE", tableType);

    PendingPublish first = stage(sink, app, 1, kv("a", 1L, "b", 1L));
    PendingPublish second = stage(sink, app, 2, kv("a", 2L, "c", 2L, "c", 3L));
    assertThat(sink.publish(List.of(first, second))).containsExactly(1L, 2L);
    assertThat(values(runtime, app)).isEqualTo(Map.of("a", 2L, "b", 1L, "c", 3L));

    PendingPublish third = stage(sink, app, 3, kv("b", 4L));
    assertThat(sink.publish(List.of(first, second, third))).containsExactly(3L);
    assertThat(sink.publish(List.of(third))).isEmpty();
    assertThat(values(runtime, app)).isEqualTo(Map.of("a", 2L, "b", 4L, "c", 3L));
    assertThat(sink.isPublished(app, 3)).isTrue();
    assertThat(sink.isPublished(app, 4)).isFalse();
    assertThat(commits(runtime, app)).extracting(c -> tag(c, CommitTag.FIRST_SEQ) + "-" + tag(c, CommitTag.SEQ))
        .containsExactly("1-2", "3-3");
  }

  @Test
  void concurrentPublishersOfOneAppWriteItsCommitsOnce() throws Exception {
    String app = TestPipeline.uniqueApp("hudi_race");
    SpindriftRuntime one = runtime(app);
    SpindriftRuntime two = runtime(app);
    SinkSpec spec = SinkSpec.hudi("it." + app);
    Sink sinkOne = sink(one, spec);
    Sink sinkTwo = sink(two, spec);
    List<PendingPublish> pending = List.of(stage(sinkOne, app, 1, kv("a", 1L, "b", 2L)),
        stage(sinkOne, app, 2, kv("c", 3L)));

    ExecutorService pool = Executors.newFixedThreadPool(2);
    try {
      List<Callable<List<Long>>> publishers = List.of(() -> sinkOne.publish(pending), () -> sinkTwo.publish(pending));
      List<Long> published = new ArrayList<>();
      for (Future<List<Long>> result : pool.invokeAll(publishers)) {
        published.addAll(result.get());
      }
      assertThat(published).containsExactly(1L, 2L);
    } finally {
      pool.shutdown();
    }
    assertThat(table(one, app).count()).isEqualTo(3);
    assertThat(commits(one, app)).hasSize(1);
  }

  @Test
  void twoAppsPublishingToOneTableAtOnceBothLandEveryCommit() throws Exception {
    String table = TestPipeline.uniqueApp("hudi_shared");
    List<String> apps = List.of(table + "_one", table + "_two");
    ExecutorService pool = Executors.newFixedThreadPool(2);
    try {
      List<Callable<Void>> writers = new ArrayList<>();
      for (String app : apps) {
        Sink sink = sink(runtime(app), SinkSpec.hudi("it." + table));
        writers.add(() -> {
          for (long seq = 1; seq <= 3; seq++) {
            sink.publish(List.of(stage(sink, app, seq, kv(app + "-" + seq + "-a", seq, app + "-" + seq + "-b", seq))));
          }
          return null;
        });
      }
      for (Future<Void> writer : pool.invokeAll(writers)) {
        writer.get();
      }
    } finally {
      pool.shutdown();
    }
    SpindriftRuntime runtime = runtime(apps.get(0));
    assertThat(table(runtime, table).count()).isEqualTo(12);
    List<Row> commits = commits(runtime, table);
    for (String app : apps) {
      assertThat(commits).filteredOn(c -> app.equals(tag(c, CommitTag.APP)))
          .extracting(c -> tag(c, CommitTag.SEQ)).containsExactly("1", "2", "3");
    }
  }

  /**
   * The default write client is Hudi's Java client: a publish (index lookup, workload profile, file writes, markers,
   * commit, the container's first clean; another container's stage file read back) starts no Spark job, and its
   * exactly-once contract holds: a retry in either container and the same commits published by a fresh container
   * (one whose predecessor died after Hudi's commit, before the commit log recorded it) write nothing more.
   */
  @ParameterizedTest
  @ValueSource(strings = {"APPEND", "UPSERT"})
  void aPublishThroughTheJavaClientRunsNoSparkJobAndIsNotRepeated(String mode) throws Exception {
    String app = TestPipeline.uniqueApp("hudi_java_" + mode.toLowerCase(Locale.ROOT));
    SpindriftRuntime runtime = runtime(app);
    SinkSpec spec = new SinkSpec(SinkSpec.Format.HUDI, "it." + app, SinkSpec.Mode.valueOf(mode),
        mode.equals("UPSERT") ? List.of("k") : List.of(), null);
    Sink sink = sink(runtime, spec);
    Sink other = sink(runtime(app), spec);
    PendingPublish first = stage(sink, app, 1, kv("a", 1L, "b", 1L));
    PendingPublish second = stage(sink, app, 2, kv("a", 2L, "c", 2L));

    SparkJobs jobs = SparkJobs.start(runtime.spark());
    assertThat(sink.publish(List.of(first))).containsExactly(1L);
    // another container publishes the second commit: it reads the stage file, on the driver too
    assertThat(other.publish(List.of(first, second))).containsExactly(2L);
    assertThat(jobs.stop()).as("Spark jobs started by two publishes").isZero();

    assertThat(sink.publish(List.of(first, second))).isEmpty();
    assertThat(other.publish(List.of(first, second))).isEmpty();
    Sink fresh = sink(runtime(app), spec);
    assertThat(fresh.publish(List.of(first, second))).isEmpty();
    assertThat(fresh.isPublished(app, 2)).isTrue();
    assertThat(commits(runtime, app)).extracting(c -> tag(c, CommitTag.SEQ)).containsExactly("1", "2");
    if (mode.equals("UPSERT")) {
      assertThat(values(runtime, app)).isEqualTo(Map.of("a", 2L, "b", 1L, "c", 2L));
    } else {
      assertThat(table(runtime, app).count()).isEqualTo(4);
    }
  }

  /**
   * A stage file read back by another container (which has not the rows in memory) gives the rows staged, value for
   * value and null for null, for every column type a job's output commonly has: the stage's Parquet is written and
   * read with Spark's own Parquet write and read support, and the Java client inserts the rows as plain Avro records
   * (no payload).
   */
  @Test
  void aStageReadBackByAnotherContainerKeepsEveryValueAndNull() throws Exception {
    String app = TestPipeline.uniqueApp("hudi_stage_types");
    SinkSpec spec = SinkSpec.hudi("it." + app);
    Sink sink = sink(runtime(app), spec);
    SpindriftRuntime other = runtime(app);
    StructType schema = new StructType().add("k", DataTypes.StringType).add("d", DataTypes.DoubleType)
        .add("n", DataTypes.LongType).add("ts", DataTypes.TimestampType).add("day", DataTypes.DateType)
        .add("amount", DataTypes.createDecimalType(10, 2)).add("flag", DataTypes.BooleanType);
    long micros = 1_796_489_213_503_123L;
    List<InternalRow> rows = List.of(
        new GenericInternalRow(new Object[] {UTF8String.fromString("a"), 1.5d, 7L, micros, 20_000,
            Decimal.apply(new java.math.BigDecimal("12345678.91")), true}),
        new GenericInternalRow(new Object[] {UTF8String.fromString("b"), null, null, null, null, null, null}));
    String txnId = UUID.randomUUID().toString();
    PendingPublish staged = new PendingPublish(new CommitTag(app, 1, txnId, "test#1"),
        sink.stage(txnId, new StageRows(schema, rows)).ref());

    assertThat(sink(other, spec).publish(List.of(staged))).containsExactly(1L);

    List<String> read = table(other, app)
        .selectExpr("k", "d", "n", "unix_micros(ts)", "unix_date(day)", "cast(amount as string)", "flag")
        .orderBy("k").collectAsList().stream().map(Row::toString).toList();
    assertThat(read).containsExactly("[a,1.5,7," + micros + ",20000,12345678.91,true]",
        "[b,null,null,null,null,null,null]");
  }

  /** The table's live base files: those a snapshot read reads. */
  private static long liveFiles(SpindriftRuntime runtime, String table) {
    return table(runtime, table).select("_hoodie_file_name").distinct().count();
  }

  /** Completed replacecommits (clusterings) on the table's timeline. */
  private static int clusterings(SpindriftRuntime runtime, String table) throws Exception {
    org.apache.hadoop.fs.Path glob = new org.apache.hadoop.fs.Path(path(runtime, table) + "/.hoodie/*.replacecommit");
    var files = glob.getFileSystem(TestPipeline.s3aReader(runtime).sessionState().newHadoopConf()).globStatus(glob);
    return files == null ? 0 : files.length;
  }

  /** Entries matching {@code glob} under the table's {@code .hoodie/} (an instant's files, markers, heartbeats). */
  private static int hoodie(SpindriftRuntime runtime, String table, String glob) throws Exception {
    org.apache.hadoop.fs.Path pattern = new org.apache.hadoop.fs.Path(path(runtime, table) + "/.hoodie/" + glob);
    var files = pattern.getFileSystem(TestPipeline.s3aReader(runtime).sessionState().newHadoopConf())
        .globStatus(pattern);
    return files == null ? 0 : files.length;
  }

  /**
   * A publish leaves its table's upkeep for after the publication ({@code Sink.afterPublish}, which the runtime
   * calls once the commits are marked published): the commit's markers and heartbeat file, the clustering it found
   * due (and cleaning and archival when due: {@code WarmWriteClientTest}). The upkeep does them; when it is not called (or finds too little
   * of the invocation left), later publishes do what was left, so nothing piles up: a clustering runs
   * {@code SERVICES_LEFT_COMMITS} (3) commits after it came due, markers are swept before the next commit.
   */
  @Test
  void aPublishLeavesItsUpkeepForAfterThePublicationAndTheNextPublishDoesWhatWasLeft() throws Exception {
    String app = TestPipeline.uniqueApp("hudi_upkeep");
    SpindriftRuntime runtime = runtime(app);
    Sink sink = sink(runtime, SinkSpec.hudi("it." + app), "SPINDRIFT_HUDI_CLUSTER_COMMITS", "2");
    List<PendingPublish> all = new ArrayList<>();
    for (long seq = 1; seq <= 2; seq++) {
      all.add(stage(sink, app, seq, kv("a" + seq, seq, "b" + seq, seq)));
      assertThat(sink.publish(List.copyOf(all))).containsExactly(seq);
    }
    assertThat(hoodie(runtime, app, ".temp/*")).as("markers of commits 1 and 2 (commit 2 swept commit 1's)")
        .isEqualTo(1);
    assertThat(hoodie(runtime, app, ".heartbeat/*")).isEqualTo(1);
    assertThat(clusterings(runtime, app)).as("due after two commits, left").isZero();

    sink.afterPublish(System.nanoTime() + 1_000_000_000L);
    assertThat(clusterings(runtime, app)).as("an upkeep with a second left does nothing").isZero();
    assertThat(hoodie(runtime, app, ".temp/*")).isEqualTo(1);
    sink.afterPublish(Long.MAX_VALUE);
    assertThat(clusterings(runtime, app)).isEqualTo(1);
    assertThat(hoodie(runtime, app, ".temp/*")).as("markers swept").isZero();
    assertThat(hoodie(runtime, app, ".heartbeat/*")).isZero();
    assertThat(liveFiles(runtime, app)).isEqualTo(1);

    // no upkeep from here on: the clustering due after commit 4 is left by commits 4 and 5, and commit 6 runs it
    for (long seq = 3; seq <= 6; seq++) {
      all.add(stage(sink, app, seq, kv("a" + seq, seq, "b" + seq, seq)));
      assertThat(sink.publish(List.copyOf(all))).containsExactly(seq);
      assertThat(hoodie(runtime, app, ".temp/*")).as("only the last commit's markers").isEqualTo(1);
      assertThat(clusterings(runtime, app)).as("after commit %d", seq).isEqualTo(seq < 6 ? 1 : 2);
    }
    assertThat(table(runtime, app).count()).isEqualTo(12);
    assertThat(commits(runtime, app)).extracting(c -> tag(c, CommitTag.SEQ))
        .containsExactly("1", "2", "3", "4", "5", "6");
  }

  /**
   * Publishes write new files by default, and every {@code SPINDRIFT_HUDI_CLUSTER_COMMITS} commits a publish
   * clusters them (Hudi's inline clustering): the live file count stays bounded, without it it grows a file per
   * commit. Rows, upserted values and exactly once are unchanged: publishing every commit again writes nothing.
   */
  @ParameterizedTest
  @ValueSource(strings = {"APPEND", "UPSERT"})
  void inlineClusteringKeepsTheFileCountBoundedAndEveryRowOnce(String mode) throws Exception {
    String app = TestPipeline.uniqueApp("hudi_cluster_" + mode.toLowerCase(Locale.ROOT));
    String unclustered = app + "_off";
    SpindriftRuntime runtime = runtime(app);
    SinkSpec.Mode writeMode = SinkSpec.Mode.valueOf(mode);
    List<String> keys = writeMode == SinkSpec.Mode.UPSERT ? List.of("k") : List.of();
    Sink sink = sink(runtime, new SinkSpec(SinkSpec.Format.HUDI, "it." + app, writeMode, keys, null),
        "SPINDRIFT_HUDI_CLUSTER_COMMITS", "3");
    Sink off = sink(runtime, new SinkSpec(SinkSpec.Format.HUDI, "it." + unclustered, writeMode, keys, null),
        "SPINDRIFT_HUDI_CLUSTER_COMMITS", "0");
    List<PendingPublish> all = new ArrayList<>();
    List<PendingPublish> allOff = new ArrayList<>();
    for (long seq = 1; seq <= 7; seq++) {
      // each commit adds two keys and (upsert) updates key "a"
      StageRows rows = kv("a", seq, "k" + seq + "x", seq, "k" + seq + "y", seq);
      all.add(stage(sink, app, seq, rows));
      allOff.add(stage(off, app, seq, rows));
      assertThat(sink.publish(List.copyOf(all))).containsExactly(seq);
      assertThat(off.publish(List.copyOf(allOff))).containsExactly(seq);
    }

    assertThat(clusterings(runtime, app)).isBetween(1, 2);
    assertThat(liveFiles(runtime, app)).as("files after 7 commits, clustered every 3").isLessThanOrEqualTo(4);
    assertThat(liveFiles(runtime, unclustered)).as("files after 7 commits, never clustered").isEqualTo(7);
    assertThat(sink.publish(all)).isEmpty();
    assertThat(commits(runtime, app)).extracting(c -> tag(c, CommitTag.SEQ))
        .containsExactly("1", "2", "3", "4", "5", "6", "7");
    if (writeMode == SinkSpec.Mode.UPSERT) {
      assertThat(values(runtime, app)).hasSize(15).containsEntry("a", 7L).isEqualTo(values(runtime, unclustered));
    } else {
      assertThat(table(runtime, app).count()).isEqualTo(21);
      assertThat(table(runtime, app).select("_hoodie_record_key").distinct().count()).isEqualTo(21);
    }
  }

  /**
   * A publish whose {@code beforeCommit} throws (the runtime's rejects publish when the table's failed or the
   * container crashed between the two) commits nothing, even as a new table's first instant, whose files Hudi would
   * otherwise count once a later commit completes; the next publish, in another container, lands the rows once.
   */
  @Test
  void aPublishStoppedBeforeItsCommitLeavesNothingAndTheRetryLandsOnce() throws Exception {
    String app = TestPipeline.uniqueApp("hudi_gate");
    SpindriftRuntime runtime = runtime(app);
    SinkSpec spec = SinkSpec.hudi("it." + app);
    Sink sink = sink(runtime, spec);
    PendingPublish first = stage(sink, app, 1, kv("a", 1L, "b", 1L));

    org.assertj.core.api.Assertions.assertThatThrownBy(() -> sink.publish(List.of(first), Long.MAX_VALUE, () -> {
      throw new IllegalStateException("the table's publish failed");
    })).hasMessageContaining("the table's publish failed");
    assertThat(sink.isPublished(app, 1)).isFalse();

    Sink other = sink(runtime(app), spec);
    assertThat(other.publish(List.of(first))).containsExactly(1L);
    assertThat(table(runtime, app).count()).isEqualTo(2);
    assertThat(sink.publish(List.of(first))).isEmpty();
    assertThat(commits(runtime, app)).extracting(c -> tag(c, CommitTag.SEQ)).containsExactly("1");
  }

  /**
   * Two containers whose publishes of the same commits overlap (each on its own lease table, as when a frozen
   * container's lease lapsed and another took it over): the one that writes its files first and commits last finds,
   * in its check under Hudi's lock, on the timeline Hudi's conflict check read under that lock, that the other
   * landed them, completes nothing and reports nothing published; every row is in the table once.
   */
  @ParameterizedTest
  @ValueSource(strings = {"java", "spark"})
  void aPublishWhoseLeaseLapsedFindsItsCommitsLandedUnderHudisLockAndAddsNothing(String client) throws Exception {
    String app = TestPipeline.uniqueApp("hudi_lapsed_" + client);
    SinkSpec spec = SinkSpec.hudi("it." + app);
    SpindriftRuntime runtime = runtime(app);
    Sink slow = sink(runtime, spec, Setting.HUDI_LEASE_TABLE.key(), app + "_lease_slow",
        Setting.HUDI_WRITE_CLIENT.key(), client);
    Sink fast = sink(runtime(app), spec, Setting.HUDI_LEASE_TABLE.key(), app + "_lease_fast",
        Setting.HUDI_WRITE_CLIENT.key(), client);
    // a first commit: the table exists
    assertThat(fast.publish(List.of(stage(fast, app, 1, kv("a", 1L))))).containsExactly(1L);
    PendingPublish second = stage(slow, app, 2, kv("b", 2L, "c", 3L));

    List<Long> byFast = new ArrayList<>();
    List<Long> bySlow = slow.publish(List.of(second), Long.MAX_VALUE,
        () -> byFast.addAll(fast.publish(List.of(second))));
    assertThat(byFast).containsExactly(2L);
    assertThat(bySlow).isEmpty();
    assertThat(values(runtime, app)).containsOnly(Map.entry("a", 1L), Map.entry("b", 2L), Map.entry("c", 3L));
    assertThat(table(runtime, app).count()).isEqualTo(3);
    assertThat(commits(runtime, app)).extracting(c -> tag(c, CommitTag.SEQ)).containsExactly("1", "2");
  }

  /**
   * A container stages with the table's columns as it last read them while its output has no column they lack: a
   * column another app added meanwhile is null in its rows once published; an output column the last read lacked
   * reads the table again, so a column another app added with another type is refused, naming it.
   */
  @Test
  void aStageAfterAnotherAppAddedAColumnLandsWithNullsThereAndAClashingTypeIsRefused() throws Exception {
    String table = TestPipeline.uniqueApp("hudi_columns");
    String narrowApp = table + "_narrow";
    String wideApp = table + "_wide";
    SinkSpec spec = SinkSpec.hudi("it." + table);
    SpindriftRuntime runtime = runtime(narrowApp);
    Sink narrow = sink(runtime, spec);
    Sink wide = sink(runtime(wideApp), spec);
    assertThat(narrow.publish(List.of(stage(narrow, narrowApp, 1, kv("a", 1L))))).containsExactly(1L);

    StructType withW = KV.add("w", DataTypes.LongType);
    StageRows wideRows = new StageRows(withW, List.of(
        new GenericInternalRow(new Object[] {UTF8String.fromString("b"), 2L, 20L})));
    assertThat(wide.publish(List.of(stage(wide, wideApp, 1, wideRows)))).containsExactly(1L);

    assertThat(narrow.publish(List.of(stage(narrow, narrowApp, 2, kv("c", 3L))))).containsExactly(2L);
    Map<String, Long> w = new HashMap<>();
    table(runtime, table).select("k", "w").collectAsList()
        .forEach(r -> w.put(r.getString(0), r.isNullAt(1) ? null : r.getLong(1)));
    assertThat(w).hasSize(3).containsEntry("b", 20L).containsEntry("a", null).containsEntry("c", null);

    StageRows clashing = new StageRows(KV.add("w", DataTypes.StringType), List.of(new GenericInternalRow(
        new Object[] {UTF8String.fromString("d"), 4L, UTF8String.fromString("forty")})));
    org.assertj.core.api.Assertions.assertThatThrownBy(() -> stage(narrow, narrowApp, 3, clashing))
        .hasMessageContaining("'w'").hasMessageContaining("incompatible");
    assertThat(table(runtime, table).count()).isEqualTo(3);
  }

  /** The completed instants on the table's timeline (commits, cleans, clusterings, rollbacks), by file name. */
  private static List<String> completedInstants(SpindriftRuntime runtime, String table) throws Exception {
    org.apache.hadoop.fs.Path glob = new org.apache.hadoop.fs.Path(path(runtime, table) + "/.hoodie/*");
    var files = glob.getFileSystem(TestPipeline.s3aReader(runtime).sessionState().newHadoopConf()).globStatus(glob);
    List<String> out = new ArrayList<>();
    for (var file : files) {
      String name = file.getPath().getName();
      if (name.matches("[0-9]+\\.(commit|deltacommit|clean|replacecommit|rollback)")) {
        out.add(name);
      }
    }
    out.sort(null);
    return out;
  }

  /**
   * A rejects table's publish does everything but its commit before it waits for the table's: its files, its
   * cleaning and archival, no clustering after the commit (its inserts merge into its one small file instead), so
   * the commit is the only instant it completes after the wait, even where the job's table would clean (first
   * commit) or cluster (every {@code SPINDRIFT_HUDI_CLUSTER_COMMITS}). A crash between the table's commit and the
   * rejects' (the wait throws) commits nothing, and the retry in another container lands every reject once.
   */
  @Test
  void aRejectsPublishCompletesOnlyItsCommitAfterTheTablesAndLandsEveryRejectOnce() throws Exception {
    String app = TestPipeline.uniqueApp("hudi_rejects");
    String table = app + "_rejects";
    SpindriftRuntime runtime = runtime(app);
    SinkSpec spec = SinkSpec.hudi("it." + table);
    Sink rejects = rejectsSink(runtime, spec, "SPINDRIFT_HUDI_CLUSTER_COMMITS", "2");
    List<PendingPublish> all = new ArrayList<>();
    for (long seq = 1; seq <= 3; seq++) {
      all.add(stage(rejects, app, seq, kv("r" + seq + "a", seq, "r" + seq + "b", seq)));
      List<List<String>> atTheWait = new ArrayList<>();
      assertThat(rejects.publish(List.copyOf(all), Long.MAX_VALUE, () -> atTheWait.add(instants(runtime, table))))
          .containsExactly(seq);
      List<String> after = new ArrayList<>(completedInstants(runtime, table));
      after.removeAll(atTheWait.get(0));
      assertThat(after).as("instants completed after the wait, commit %s", seq).hasSize(1)
          .allMatch(name -> name.endsWith(".commit"));
    }

    // the table committed, then the container crashed before the rejects' commit (MID_PUBLISH)
    all.add(stage(rejects, app, 4, kv("r4a", 4L, "r4b", 4L)));
    org.assertj.core.api.Assertions.assertThatThrownBy(() -> rejects.publish(List.copyOf(all), Long.MAX_VALUE,
        () -> {
          throw new IllegalStateException("MID_PUBLISH");
        })).hasMessageContaining("MID_PUBLISH");
    assertThat(rejects.isPublished(app, 4)).isFalse();
    Sink retry = rejectsSink(runtime(app), spec, "SPINDRIFT_HUDI_CLUSTER_COMMITS", "2");
    assertThat(retry.publish(List.copyOf(all), Long.MAX_VALUE, () -> { })).containsExactly(4L);
    all.add(stage(retry, app, 5, kv("r5a", 5L, "r5b", 5L)));
    assertThat(retry.publish(List.copyOf(all), Long.MAX_VALUE, () -> { })).containsExactly(5L);
    assertThat(rejects.publish(List.copyOf(all))).isEmpty();

    assertThat(commits(runtime, table)).extracting(c -> tag(c, CommitTag.SEQ))
        .containsExactly("1", "2", "3", "4", "5");
    assertThat(table(runtime, table).count()).isEqualTo(10);
    assertThat(table(runtime, table).select("_hoodie_record_key").distinct().count()).isEqualTo(10);
    assertThat(clusterings(runtime, table)).isZero();
    assertThat(liveFiles(runtime, table)).as("inserts merged into the one small file").isEqualTo(1);
  }

  /** {@link #completedInstants}, for a lambda (which cannot throw a checked exception). */
  private static List<String> instants(SpindriftRuntime runtime, String table) {
    try {
      return completedInstants(runtime, table);
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  /**
   * Hudi builds its DynamoDB lock provider for every commit; the container's warm providers make that free (no
   * lock-table check, no new client), while every commit still takes and releases the table's lock item.
   */
  @Test
  void warmPublishesTakeHudisLockWithoutRebuildingItsProvider() throws Exception {
    String app = TestPipeline.uniqueApp("hudi_lock");
    SpindriftRuntime runtime = runtime(app);
    Sink sink = sink(runtime, SinkSpec.hudi("it." + app));
    List<PendingPublish> pending = new ArrayList<>();
    for (long seq = 1; seq <= 3; seq++) {
      pending.add(stage(sink, app, seq, kv("a" + seq, seq)));
    }
    assertThat(sink.publish(pending.subList(0, 1))).containsExactly(1L);

    AwsRequestLog.start();
    assertThat(sink.publish(pending.subList(0, 2))).containsExactly(2L);
    assertThat(sink.publish(pending)).containsExactly(3L);
    List<AwsRequestLog.Request> lockRequests = AwsRequestLog.stop().stream()
        .filter(r -> r.target().equals(runtime.config().get(Setting.HUDI_LOCK_TABLE))).toList();
    // Hudi takes its lock several times per commit (its instant time, the commit, table services): each time a
    // put of the lock item and a delete on release, never a check of the lock table
    List<String> operations = lockRequests.stream().map(AwsRequestLog.Request::operation).toList();
    assertThat(operations).doesNotContain("DescribeTable");
    long taken = operations.stream().filter("PutItem"::equals).count();
    assertThat(taken).as("lock items put by two commits").isGreaterThanOrEqualTo(2);
    assertThat(operations.stream().filter("DeleteItem"::equals).count()).as("released").isEqualTo(taken);
    assertThat(table(runtime, app).count()).isEqualTo(3);
  }

  /**
   * {@code SPINDRIFT_HUDI_WRITE_CLIENT=spark} publishes through Hudi's Spark client (Spark jobs), onto a table the
   * Java client wrote, and the Java client goes on from the Spark client's commit: one table, either client.
   */
  @Test
  void theSparkClientAndTheJavaClientWriteOneTableInTurn() throws Exception {
    String app = TestPipeline.uniqueApp("hudi_clients");
    SpindriftRuntime runtime = runtime(app);
    SinkSpec spec = new SinkSpec(SinkSpec.Format.HUDI, "it." + app, SinkSpec.Mode.UPSERT, List.of("k"), null);
    Sink java = sink(runtime, spec);
    Sink spark = sink(runtime, spec, "SPINDRIFT_HUDI_WRITE_CLIENT", "spark");
    PendingPublish first = stage(java, app, 1, kv("a", 1L, "b", 1L));
    PendingPublish second = stage(spark, app, 2, kv("a", 2L, "c", 2L));
    PendingPublish third = stage(java, app, 3, kv("c", 3L, "d", 3L));

    assertThat(java.publish(List.of(first))).containsExactly(1L);
    SparkJobs jobs = SparkJobs.start(runtime.spark());
    assertThat(spark.publish(List.of(first, second))).containsExactly(2L);
    assertThat(jobs.stop()).as("Spark jobs started by the Spark client's publish").isPositive();
    assertThat(java.publish(List.of(first, second, third))).containsExactly(3L);

    assertThat(values(runtime, app)).isEqualTo(Map.of("a", 2L, "b", 1L, "c", 3L, "d", 3L));
    assertThat(commits(runtime, app)).extracting(c -> tag(c, CommitTag.SEQ)).containsExactly("1", "2", "3");
  }

  /** Counts the Spark jobs started between {@link #start} and {@link #stop}. */
  private static final class SparkJobs extends SparkListener {
    private final SparkSession spark;
    private final AtomicInteger started = new AtomicInteger();

    private SparkJobs(SparkSession spark) {
      this.spark = spark;
    }

    static SparkJobs start(SparkSession spark) throws Exception {
      spark.sparkContext().listenerBus().waitUntilEmpty();
      SparkJobs jobs = new SparkJobs(spark);
      spark.sparkContext().addSparkListener(jobs);
      return jobs;
    }

    @Override
    public void onJobStart(SparkListenerJobStart job) {
      started.incrementAndGet();
    }

    int stop() throws Exception {
      spark.sparkContext().listenerBus().waitUntilEmpty();
      spark.sparkContext().removeSparkListener(this);
      return started.get();
    }
  }

  /**
   * Publish latency of 1,000-row batches, metadata table off and on, copy-on-write (a measurement, not a test:
   * run with {@code -Dspindrift.bench=true -Dtest=HudiSinkTest#publishLatency}).
   */
  @Test
  @EnabledIfSystemProperty(named = "spindrift.bench", matches = "true")
  void publishLatency() {
    int rowCount = Integer.getInteger("bench.rows", 1000);
    int batches = Integer.getInteger("bench.batches", 12);
    for (String variant : System.getProperty("bench.variants", "false/COPY_ON_WRITE,true/COPY_ON_WRITE").split(",")) {
      String[] parts = variant.split("/");
      String app = TestPipeline.uniqueApp("hudi_bench");
      SpindriftRuntime runtime = runtime(app);
      Sink sink = sink(runtime, SinkSpec.hudi("bench." + app), "SPINDRIFT_HUDI_METADATA_TABLE", parts[0],
          "SPINDRIFT_HUDI_TABLE_TYPE", parts[1]);
      StageRows rows = clicks(runtime, rowCount);
      List<Long> stage = new ArrayList<>();
      List<Long> publish = new ArrayList<>();
      for (int seq = 1; seq <= batches; seq++) {
        long start = System.nanoTime();
        PendingPublish pending = stage(sink, app, seq, rows);
        stage.add((System.nanoTime() - start) / 1_000_000);
        start = System.nanoTime();
        sink.publish(List.of(pending));
        publish.add((System.nanoTime() - start) / 1_000_000);
      }
      System.out.printf("HUDI-BENCH rows=%d metadata=%s type=%s stage=%s publish=%s medianStage=%d medianPublish=%d%n",
          rowCount, parts[0], parts[1], stage, publish, median(stage.subList(1, stage.size())),
          median(publish.subList(1, publish.size())));
    }
  }

  private static StageRows clicks(SpindriftRuntime runtime, int count) {
    ClickstreamGenerator generator = new ClickstreamGenerator(42, 0, 1_795_390_000_000L);
    List<String> json = new ArrayList<>();
    for (int i = 0; i < count; i++) {
      json.add(new String(generator.next().json(), StandardCharsets.UTF_8));
    }
    List<InternalRow> internal = runtime.spark().read().schema(Clickstream.EVENT)
        .json(runtime.spark().createDataset(json, Encoders.STRING()))
        .queryExecution().toRdd().toJavaRDD().map(InternalRow::copy).collect();
    return new StageRows(Clickstream.EVENT, internal);
  }

  private static long median(List<Long> values) {
    List<Long> sorted = new ArrayList<>(values);
    sorted.sort(null);
    return sorted.get(sorted.size() / 2);
  }
}
