package io.spindrift.it;

import io.spindrift.runtime.RuntimeHooks;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.amazonaws.services.lambda.runtime.events.KafkaEvent;
import com.amazonaws.services.lambda.runtime.events.KinesisEvent;
import com.amazonaws.services.lambda.runtime.events.StreamsEventResponse;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.spindrift.examples.Clickstream;
import io.spindrift.handler.KafkaBatchResponse;
import io.spindrift.handler.KinesisHandler;
import io.spindrift.handler.MskHandler;
import io.spindrift.local.mapping.InProcessInvoker;
import io.spindrift.local.mapping.LambdaInvoker;
import io.spindrift.protocol.FaultPoint;
import io.spindrift.runtime.SpindriftRuntime;
import io.spindrift.sink.ChangeRows;
import io.spindrift.sink.CommitTag;
import io.spindrift.sink.PendingPublish;
import io.spindrift.sink.Sink;
import io.spindrift.sink.SinkContext;
import io.spindrift.sink.SinkSpec;
import io.spindrift.sink.SinkSpec.Format;
import io.spindrift.sink.SinkSpec.Mode;
import io.spindrift.sink.Sinks;
import io.spindrift.sink.StageRows;
import io.spindrift.sink.StagedOutput;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.stream.Stream;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.catalyst.InternalRow;
import org.apache.spark.sql.catalyst.expressions.GenericInternalRow;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.apache.spark.unsafe.types.UTF8String;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * One sink contract, one suite, every table format (issue 4): the real Kinesis handler writes the Clickstream job
 * into an Iceberg, Delta or Hudi table on the local stack, in append and upsert (keyed on {@code user_id}) modes,
 * under duplicated batches, a retry, a crash after commit and a crash in the middle of publishing; two containers
 * publishing at once; schema evolution both ways; deletes (CDC: rows marked {@code spindrift_delete}, Kafka
 * tombstones) applied in commit order per key, within a batch, across batches and across a composite stage's parts,
 * exactly once, and refused into the rejects for an appending sink. Tables are read back with plain Spark
 * ({@code spark.read.format(...)}) and commit tags from each format's own log files.
 */
class SinkConformanceTest {
  private static final String SHARD0 = "shardId-000000000000";
  private static final String SHARD1 = "shardId-000000000001";
  private static final ObjectMapper JSON = new ObjectMapper();

  static Stream<Arguments> formatsAndModes() {
    return Arrays.stream(Format.values())
        .flatMap(format -> Stream.of(Arguments.of(format, Mode.APPEND), Arguments.of(format, Mode.UPSERT)));
  }

  private static SpindriftRuntime runtime(String app, String table, Format format, Mode mode,
      Map<String, String> extra) {
    Map<String, String> settings = new HashMap<>(Map.of("SPINDRIFT_SINK_TABLE", "it." + table,
        "SPINDRIFT_SINK_FORMAT", format.name().toLowerCase()));
    if (mode == Mode.UPSERT) {
      settings.put("SPINDRIFT_SINK_MODE", "upsert");
      settings.put("SPINDRIFT_SINK_KEYS", "user_id");
    }
    settings.putAll(extra);
    return TestPipeline.runtime(app, settings);
  }

  private static LambdaInvoker invoker(SpindriftRuntime runtime) {
    return new InProcessInvoker<>(new KinesisHandler(runtime), KinesisEvent.class, StreamsEventResponse.class, 1);
  }

  /** The table as plain Spark reads it (Spindrift's own columns and Hudi's metadata columns left out). */
  static Dataset<Row> read(SpindriftRuntime runtime, Format format, String table) {
    return switch (format) {
      case ICEBERG -> runtime.spark().read().table(TestPipeline.qualified(runtime, "it." + table));
      case DELTA -> TestPipeline.s3aReader(runtime).read().format("delta").load(location(runtime, table));
      case HUDI -> {
        Dataset<Row> rows = TestPipeline.s3aReader(runtime).read().format("hudi").load(location(runtime, table));
        yield rows.drop(Arrays.stream(rows.columns()).filter(c -> c.startsWith("_hoodie_")).toArray(String[]::new));
      }
    };
  }

  static String location(SpindriftRuntime runtime, String table) {
    return "s3a://" + runtime.config().bucket() + "/warehouse/it/" + table;
  }

  /** The {@link CommitTag} entries of every commit the app made to the table, oldest first, from the format's log. */
  static List<Map<String, String>> commitTags(SpindriftRuntime runtime, Format format, String table, String app)
      throws IOException {
    List<Map<String, String>> out = new ArrayList<>();
    switch (format) {
      case ICEBERG -> {
        for (Row row : runtime.spark().sql("SELECT summary FROM " + TestPipeline.qualified(runtime, "it." + table)
            + ".snapshots ORDER BY committed_at").collectAsList()) {
          out.add(new HashMap<>(row.getJavaMap(0)));
        }
      }
      case DELTA -> {
        for (JsonNode line : logLines(runtime, location(runtime, table) + "/_delta_log", ".json", true)) {
          JsonNode info = line.get("commitInfo");
          if (info != null && info.hasNonNull("userMetadata")) {
            out.add(stringMap(JSON.readTree(info.get("userMetadata").asText())));
          }
        }
      }
      case HUDI -> {
        for (JsonNode commit : logLines(runtime, location(runtime, table) + "/.hoodie", "commit", false)) {
          if (commit.has("extraMetadata")) {
            out.add(stringMap(commit.get("extraMetadata")));
          }
        }
      }
    }
    out.removeIf(tags -> !app.equals(tags.get(CommitTag.APP)));
    return out;
  }

  /** JSON documents of the log directory's files ending in {@code suffix}, in file-name (commit) order. */
  private static List<JsonNode> logLines(SpindriftRuntime runtime, String directory, String suffix, boolean lines)
      throws IOException {
    org.apache.hadoop.fs.Path dir = new org.apache.hadoop.fs.Path(directory);
    SparkSession reader = TestPipeline.s3aReader(runtime);
    FileSystem fs = dir.getFileSystem(reader.sessionState().newHadoopConf());
    TreeSet<String> names = new TreeSet<>();
    for (FileStatus status : fs.listStatus(dir)) {
      if (status.isFile() && status.getPath().getName().endsWith(suffix)) {
        names.add(status.getPath().getName());
      }
    }
    List<JsonNode> out = new ArrayList<>();
    for (String name : names) {
      try (InputStream in = fs.open(new org.apache.hadoop.fs.Path(dir, name))) {
        String text = new String(in.readAllBytes(), StandardCharsets.UTF_8);
        if (lines) {
          for (String line : text.split("\n")) {
            if (!line.isBlank()) {
              out.add(JSON.readTree(line));
            }
          }
        } else if (!text.isBlank()) {
          out.add(JSON.readTree(text));
        }
      }
    }
    return out;
  }

  private static Map<String, String> stringMap(JsonNode node) {
    Map<String, String> out = new LinkedHashMap<>();
    Iterator<Map.Entry<String, JsonNode>> fields = node.fields();
    while (fields.hasNext()) {
      Map.Entry<String, JsonNode> field = fields.next();
      out.put(field.getKey(), field.getValue().asText());
    }
    return out;
  }

  /** The seqs one table commit publishes: {@code first-seq..seq} of its {@link CommitTag} entries. */
  private static List<Long> seqs(Map<String, String> tag) {
    List<Long> out = new ArrayList<>();
    long last = Long.parseLong(tag.get(CommitTag.SEQ));
    for (long seq = Long.parseLong(tag.getOrDefault(CommitTag.FIRST_SEQ, tag.get(CommitTag.SEQ))); seq <= last; seq++) {
      out.add(seq);
    }
    return out;
  }

  /** One batch of the scenario: its lane, first position, payloads. */
  private record Batch(String shard, long first, List<byte[]> payloads) {
    String event() {
      return KinesisEvents.event("clicks", shard, first, payloads);
    }
  }

  /** What the table must hold after {@code batches} committed in this order: event_id by user (upsert) or all ids. */
  private static Map<String, String> expected(List<Batch> batches, Mode mode) throws IOException {
    Map<String, String> out = new LinkedHashMap<>();
    for (Batch batch : batches) {
      for (byte[] payload : batch.payloads()) {
        JsonNode event;
        try {
          event = JSON.readTree(payload);
        } catch (IOException malformed) {
          continue;
        }
        String user = event.get("user_id").asText();
        String id = event.get("event_id").asText();
        out.put(mode == Mode.UPSERT ? user : id, id);
      }
    }
    return out;
  }

  private static Map<String, String> actual(SpindriftRuntime runtime, Format format, String table, Mode mode) {
    Map<String, String> out = new HashMap<>();
    List<Row> rows = read(runtime, format, table).select("user_id", "event_id").collectAsList();
    for (Row row : rows) {
      String previous = out.put(mode == Mode.UPSERT ? row.getString(0) : row.getString(1), row.getString(1));
      assertThat(previous).as("a second row for key %s", row.get(0)).isNull();
    }
    return out;
  }

  @ParameterizedTest(name = "{0} {1}")
  @MethodSource("formatsAndModes")
  void exactlyOnceUnderDuplicatesRetriesAndCrashes(Format format, Mode mode) throws Exception {
    String app = TestPipeline.uniqueApp("conf_" + format.name().toLowerCase() + "_" + mode.name().toLowerCase());
    Batch a = new Batch(SHARD0, 0, KinesisEvents.clicks(100, 61));
    Batch b = new Batch(SHARD0, 100, KinesisEvents.clicks(100, 62));
    Batch c = new Batch(SHARD1, 0, KinesisEvents.clicks(60, 63));
    Batch d = new Batch(SHARD0, 200, KinesisEvents.clicks(50, 64));
    List<byte[]> withPoison = KinesisEvents.clicks(40, 65);
    withPoison.set(7, "{\"event_id\":\"evt-poison\",\"page\":".getBytes(StandardCharsets.UTF_8));
    Batch e = new Batch(SHARD1, 60, withPoison);

    SpindriftRuntime first = runtime(app, app, format, mode, Map.of());
    // a duplicated batch
    invoker(first).invoke(a.event());
    invoker(first).invoke(a.event());
    // a retry after a failure between staging and commit
    RuntimeHooks.faults(first).arm(FaultPoint.AFTER_STAGE, 1);
    assertThatThrownBy(() -> invoker(first).invoke(b.event())).hasMessageContaining("AFTER_STAGE");
    invoker(first).invoke(b.event());
    // a crash after commit, before publish: rolled forward by a fresh container's batch on another lane
    RuntimeHooks.faults(first).arm(FaultPoint.AFTER_COMMIT, 1);
    assertThatThrownBy(() -> invoker(first).invoke(c.event())).hasMessageContaining("AFTER_COMMIT");
    assertThat(actual(first, format, app, mode)).isEqualTo(expected(List.of(a, b), mode));
    SpindriftRuntime second = runtime(app, app, format, mode, Map.of());
    invoker(second).invoke(d.event());
    // a crash in the middle of publishing (table published, rejects not): completed once by a retry elsewhere
    RuntimeHooks.faults(second).arm(FaultPoint.MID_PUBLISH, 1);
    assertThatThrownBy(() -> invoker(second).invoke(e.event())).hasMessageContaining("MID_PUBLISH");
    SpindriftRuntime third = runtime(app, app, format, mode, Map.of());
    invoker(third).invoke(e.event());
    invoker(third).invoke(c.event());

    assertThat(actual(third, format, app, mode)).isEqualTo(expected(List.of(a, b, c, d, e), mode));
    List<Row> rejects = read(third, format, app + "_rejects").select("lane", "position", "error").collectAsList();
    assertThat(rejects).hasSize(1);
    assertThat(rejects.get(0).getString(0)).isEqualTo("kinesis:clicks/" + SHARD1);
    assertThat(rejects.get(0).getString(1)).isEqualTo(KinesisEvents.sequence(67));
    assertThat(rejects.get(0).getString(2)).contains("malformed");

    // every commit is tagged; together they hold seqs 1..5 once each
    List<Map<String, String>> tags = commitTags(third, format, app, app);
    assertThat(tags).isNotEmpty();
    List<Long> seqs = new ArrayList<>();
    for (Map<String, String> tag : tags) {
      assertThat(tag.get(CommitTag.LANES)).startsWith("kinesis:clicks/");
      assertThat(tag.get(CommitTag.TXN_ID)).matches("[0-9a-f-]{36}(,[0-9a-f-]{36})*");
      seqs.addAll(seqs(tag));
    }
    assertThat(seqs).containsExactly(1L, 2L, 3L, 4L, 5L);
    assertThat(commitTags(third, format, app + "_rejects", app)).isNotEmpty();
  }

  @ParameterizedTest(name = "{0}")
  @EnumSource(Format.class)
  void twoContainersPublishingAtOnceLoseNothing(Format format) throws Exception {
    String app = TestPipeline.uniqueApp("conf_conc_" + format.name().toLowerCase());
    SpindriftRuntime left = runtime(app, app, format, Mode.APPEND, Map.of());
    SpindriftRuntime right = runtime(app, app, format, Mode.APPEND, Map.of());
    List<Batch> batches = new ArrayList<>();
    List<CompletableFuture<String>> calls = new ArrayList<>();
    for (int round = 0; round < 2; round++) {
      Batch l = new Batch(SHARD0, round * 80L, KinesisEvents.clicks(80, 70 + round));
      Batch r = new Batch(SHARD1, round * 80L, KinesisEvents.clicks(80, 80 + round));
      batches.add(l);
      batches.add(r);
      calls.add(CompletableFuture.supplyAsync(() -> invokeQuietly(left, l)));
      calls.add(CompletableFuture.supplyAsync(() -> invokeQuietly(right, r)));
      calls.forEach(CompletableFuture::join);
    }
    for (CompletableFuture<String> call : calls) {
      assertThat(call.join()).contains("\"batchItemFailures\":[]");
    }
    assertThat(actual(left, format, app, Mode.APPEND)).isEqualTo(expected(batches, Mode.APPEND));
    List<Long> seqs = new ArrayList<>();
    for (Map<String, String> tag : commitTags(left, format, app, app)) {
      seqs.addAll(seqs(tag));
    }
    assertThat(seqs).containsExactly(1L, 2L, 3L, 4L);
  }

  private static String invokeQuietly(SpindriftRuntime runtime, Batch batch) {
    try {
      return invoker(runtime).invoke(batch.event());
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  @ParameterizedTest(name = "{0}")
  @EnumSource(Format.class)
  void aNewNullableColumnIsAddedAndAnIncompatibleChangeIsRefusedNamingTheColumn(Format format) throws Exception {
    String table = TestPipeline.uniqueApp("conf_schema_" + format.name().toLowerCase());
    Path narrow = sqlJob("SELECT e.event_id, e.user_id, e.page", "event_id STRING, user_id STRING, page STRING");
    Path wider = sqlJob("SELECT e.event_id, e.user_id, e.page, e.country",
        "event_id STRING, user_id STRING, page STRING, country STRING");
    Path retyped = sqlJob("SELECT e.event_id, e.user_id, length(e.page) AS page",
        "event_id STRING, user_id STRING, page STRING");
    List<byte[]> first = KinesisEvents.clicks(30, 91);
    List<byte[]> second = KinesisEvents.clicks(20, 92);

    SpindriftRuntime v1 = runtime(table + "_v1", table, format, Mode.APPEND, Map.of("SPINDRIFT_JOB", "file:" + narrow));
    invoker(v1).invoke(KinesisEvents.event("clicks", SHARD0, 0, first));
    SpindriftRuntime v2 = runtime(table + "_v2", table, format, Mode.APPEND, Map.of("SPINDRIFT_JOB", "file:" + wider));
    invoker(v2).invoke(KinesisEvents.event("clicks", SHARD0, 0, second));

    Dataset<Row> rows = read(v2, format, table);
    assertThat(rows.columns()).contains("event_id", "user_id", "page", "country");
    assertThat(rows.count()).isEqualTo(50);
    assertThat(rows.where("country IS NOT NULL").count()).isEqualTo(20);
    assertThat(rows.where("country IS NULL").count()).isEqualTo(30);

    SpindriftRuntime v3 = runtime(table + "_v3", table, format, Mode.APPEND, Map.of("SPINDRIFT_JOB", "file:" + retyped));
    assertThatThrownBy(() -> invoker(v3).invoke(KinesisEvents.event("clicks", SHARD0, 0, KinesisEvents.clicks(5, 93))))
        .hasMessageContaining("'page'").hasMessageContaining("incompatible");
    assertThat(read(v3, format, table).count()).isEqualTo(50);
  }

  @ParameterizedTest(name = "{0} {1}")
  @MethodSource("formatsAndModes")
  void aTableIsPartitionedByTheDeclaredColumn(Format format, Mode mode) throws Exception {
    String app = TestPipeline.uniqueApp("conf_part_" + format.name().toLowerCase() + "_" + mode.name().toLowerCase());
    Map<String, String> partitioned = mode == Mode.UPSERT
        ? Map.of("SPINDRIFT_SINK_PARTITION_BY", "country", "SPINDRIFT_SINK_KEYS", "country,user_id")
        : Map.of("SPINDRIFT_SINK_PARTITION_BY", "country");
    SpindriftRuntime runtime = runtime(app, app, format, mode, partitioned);
    Batch first = new Batch(SHARD0, 0, KinesisEvents.clicks(120, 95));
    Batch second = new Batch(SHARD0, 120, KinesisEvents.clicks(120, 96));
    invoker(runtime).invoke(first.event());
    invoker(runtime).invoke(second.event());

    // key: event_id (append) or country|user_id (upsert); value: event_id
    Map<String, String> expected = new LinkedHashMap<>();
    for (Batch batch : List.of(first, second)) {
      for (byte[] payload : batch.payloads()) {
        JsonNode event = JSON.readTree(payload);
        String id = event.get("event_id").asText();
        expected.put(mode == Mode.UPSERT ? event.get("country").asText() + "|" + event.get("user_id").asText() : id, id);
      }
    }
    Map<String, String> actual = new HashMap<>();
    for (Row row : read(runtime, format, app).select("country", "user_id", "event_id").collectAsList()) {
      String key = mode == Mode.UPSERT ? row.getString(0) + "|" + row.getString(1) : row.getString(2);
      assertThat(actual.put(key, row.getString(2))).as("a second row for %s", key).isNull();
    }
    assertThat(actual).isEqualTo(expected);
    // the format's own metadata says the table is partitioned by country, and rows sit in their partitions
    switch (format) {
      case ICEBERG -> assertThat(TestPipeline.rows(runtime, "SELECT partition.country FROM "
          + TestPipeline.qualified(runtime, "it." + app) + ".partitions")).hasSizeGreaterThan(1);
      case DELTA -> {
        List<JsonNode> log = logLines(runtime, location(runtime, app) + "/_delta_log", ".json", true);
        assertThat(log.stream().filter(line -> line.has("metaData")).findFirst().orElseThrow()
            .get("metaData").get("partitionColumns").toString()).isEqualTo("[\"country\"]");
      }
      case HUDI -> assertThat(read(runtime, format, app).columns()).contains("country");
    }
    org.apache.hadoop.fs.Path root = new org.apache.hadoop.fs.Path(location(runtime, app));
    if (format != Format.ICEBERG) {
      FileSystem fs = root.getFileSystem(TestPipeline.s3aReader(runtime).sessionState().newHadoopConf());
      assertThat(Arrays.stream(fs.listStatus(root)).map(st -> st.getPath().getName()))
          .anyMatch(name -> name.startsWith("country="));
    }
    Dataset<Row> rows = read(runtime, format, app);
    for (Row perCountry : rows.groupBy("country").count().collectAsList()) {
      assertThat(perCountry.getLong(1)).isPositive();
    }
    assertThat(rows.where("country = 'DE'").count()).isEqualTo(rows.collectAsList().stream()
        .filter(r -> "DE".equals(r.getAs("country"))).count());
  }

  // --- composite stages (fan-out: each child stages a part, the parent commits and publishes them as one) ---

  private static final StructType CLICK = new StructType()
      .add("user_id", DataTypes.StringType).add("event_id", DataTypes.StringType);

  /** The format's sink for table {@code it.<app>}, driven directly as the runtime drives it. */
  private static Sink sink(SpindriftRuntime runtime, Format format, Mode mode, String app) {
    List<String> keys = mode == Mode.UPSERT ? List.of("user_id") : List.of();
    return Sinks.create(new SinkSpec(format, "it." + app, mode, keys, null), new SinkContext(app, runtime.spark(),
        runtime.catalog(), runtime.config().stageLocation(), runtime.config().asMap()));
  }

  /** Rows of (user_id, event_id), given as pairs. */
  private static StageRows clicks(String... userAndEvent) {
    List<InternalRow> rows = new ArrayList<>();
    for (int i = 0; i < userAndEvent.length; i += 2) {
      rows.add(new GenericInternalRow(new Object[] {
          UTF8String.fromString(userAndEvent[i]), UTF8String.fromString(userAndEvent[i + 1])}));
    }
    return new StageRows(CLICK, rows);
  }

  /** One pending publish of seq {@code seq}: each of {@code parts} staged under its own stage id, then combined. */
  private static PendingPublish fannedOut(Sink sink, String app, long seq, StageRows... parts) {
    List<StagedOutput> staged = new ArrayList<>();
    for (StageRows part : parts) {
      staged.add(sink.stage(UUID.randomUUID().toString(), part));
    }
    StagedOutput combined = StagedOutput.combine(staged);
    assertThat(StagedOutput.parts(combined.ref())).hasSize(parts.length);
    return new PendingPublish(new CommitTag(app, seq, UUID.randomUUID().toString(), "test#" + seq), combined.ref());
  }

  /** The seqs of each of the app's table commits, oldest first. */
  private static List<List<Long>> seqsPerCommit(SpindriftRuntime runtime, Format format, String app)
      throws IOException {
    return commitTags(runtime, format, app, app).stream().map(SinkConformanceTest::seqs).toList();
  }

  @ParameterizedTest(name = "{0}")
  @EnumSource(Format.class)
  void aCompositeStageIsPublishedOnceInOneTableCommit(Format format) throws Exception {
    String app = TestPipeline.uniqueApp("conf_composite_" + format.name().toLowerCase());
    SpindriftRuntime runtime = TestPipeline.runtime(app);
    Sink sink = sink(runtime, format, Mode.APPEND, app);
    PendingPublish first = fannedOut(sink, app, 1,
        clicks("u1", "e1", "u2", "e2", "u3", "e3"), clicks("u4", "e4", "u5", "e5"));

    assertThat(sink.publish(List.of(first))).containsExactly(1L);
    assertThat(read(runtime, format, app).count()).isEqualTo(5);
    assertThat(actual(runtime, format, app, Mode.APPEND))
        .isEqualTo(Map.of("e1", "e1", "e2", "e2", "e3", "e3", "e4", "e4", "e5", "e5"));
    assertThat(seqsPerCommit(runtime, format, app)).containsExactly(List.of(1L));
    assertThat(sink.isPublished(app, 1)).isTrue();

    // published again (a retry, a roll-forward elsewhere): nothing changes
    assertThat(sink.publish(List.of(first))).isEmpty();
    assertThat(sink(runtime, format, Mode.APPEND, app).publish(List.of(first))).isEmpty();
    assertThat(read(runtime, format, app).count()).isEqualTo(5);
    assertThat(seqsPerCommit(runtime, format, app)).containsExactly(List.of(1L));

    // a backlog of two composites rolled forward together: one table commit for both seqs, each part once
    PendingPublish second = fannedOut(sink, app, 2, clicks("u6", "e6"), clicks("u7", "e7", "u8", "e8"));
    PendingPublish third = fannedOut(sink, app, 3, clicks("u9", "e9"), clicks("u1", "e10"));
    assertThat(sink.publish(List.of(first, second, third))).containsExactly(2L, 3L);
    assertThat(sink.publish(List.of(first, second, third))).isEmpty();
    assertThat(read(runtime, format, app).count()).isEqualTo(10);
    assertThat(actual(runtime, format, app, Mode.APPEND)).hasSize(10).containsEntry("e10", "e10");
    assertThat(seqsPerCommit(runtime, format, app)).containsExactly(List.of(1L), List.of(2L, 3L));
    runtime.close();
  }

  @ParameterizedTest(name = "{0}")
  @EnumSource(Format.class)
  void anUpsertOfKeyDisjointPartsIsUpdatedByLaterSeqsAcrossParts(Format format) throws Exception {
    String app = TestPipeline.uniqueApp("conf_composite_up_" + format.name().toLowerCase());
    SpindriftRuntime runtime = TestPipeline.runtime(app);
    Sink sink = sink(runtime, format, Mode.UPSERT, app);
    PendingPublish first = fannedOut(sink, app, 1,
        clicks("u1", "e1", "u2", "e2", "u3", "e3"), clicks("u4", "e4", "u5", "e5", "u6", "e6"));
    assertThat(sink.publish(List.of(first))).containsExactly(1L);
    assertThat(actual(runtime, format, app, Mode.UPSERT))
        .isEqualTo(Map.of("u1", "e1", "u2", "e2", "u3", "e3", "u4", "e4", "u5", "e5", "u6", "e6"));

    // the next batch's children own other key sets: each part updates keys of both earlier parts
    PendingPublish second = fannedOut(sink, app, 2, clicks("u1", "e11", "u5", "e15"), clicks("u3", "e13", "u7", "e17"));
    assertThat(sink.publish(List.of(first, second))).containsExactly(2L);
    PendingPublish third = fannedOut(sink, app, 3, clicks("u2", "e22"), clicks("u4", "e24", "u5", "e25"));
    assertThat(sink.publish(List.of(third))).containsExactly(3L);
    assertThat(sink.publish(List.of(first, second, third))).isEmpty();

    Map<String, String> expected = Map.of("u1", "e11", "u2", "e22", "u3", "e13", "u4", "e24", "u5", "e25",
        "u6", "e6", "u7", "e17");
    assertThat(actual(runtime, format, app, Mode.UPSERT)).isEqualTo(expected);
    assertThat(read(runtime, format, app).count()).isEqualTo(expected.size());
    assertThat(seqsPerCommit(runtime, format, app)).containsExactly(List.of(1L), List.of(2L), List.of(3L));
    runtime.close();
  }

  @ParameterizedTest(name = "{0}")
  @EnumSource(Format.class)
  void aKeyInTwoPartsOfAnUpsertTakesTheLaterPartsRow(Format format) throws Exception {
    String app = TestPipeline.uniqueApp("conf_composite_overlap_" + format.name().toLowerCase());
    SpindriftRuntime runtime = TestPipeline.runtime(app);
    Sink sink = sink(runtime, format, Mode.UPSERT, app);
    PendingPublish first = fannedOut(sink, app, 1, clicks("u1", "e1", "u2", "e2"), clicks("u2", "e12", "u3", "e3"));

    assertThat(sink.publish(List.of(first))).containsExactly(1L);

    assertThat(actual(runtime, format, app, Mode.UPSERT)).isEqualTo(Map.of("u1", "e1", "u2", "e12", "u3", "e3"));
    runtime.close();
  }

  // --- deletes (CDC): a row whose spindrift_delete is true deletes its key; the last change of a key wins ---

  private static final StructType CHANGE = CLICK.add(ChangeRows.COLUMN, DataTypes.BooleanType);

  /** Changes of (user_id, event_id): {@code "u1=e1"} upserts u1, {@code "-u1"} deletes it. */
  private static StageRows changes(String... changes) {
    List<InternalRow> rows = new ArrayList<>();
    for (String change : changes) {
      boolean delete = change.startsWith("-");
      String user = delete ? change.substring(1) : change.substring(0, change.indexOf('='));
      String event = delete ? null : change.substring(change.indexOf('=') + 1);
      rows.add(new GenericInternalRow(new Object[] {
          UTF8String.fromString(user), event == null ? null : UTF8String.fromString(event), delete}));
    }
    return new StageRows(CHANGE, rows);
  }

  private static PendingPublish staged(Sink sink, String app, long seq, StageRows rows) {
    StagedOutput output = sink.stage(UUID.randomUUID().toString(), rows);
    return new PendingPublish(new CommitTag(app, seq, UUID.randomUUID().toString(), "test#" + seq), output.ref());
  }

  @ParameterizedTest(name = "{0}")
  @EnumSource(Format.class)
  void deletesApplyInCommitOrderPerKeyExactlyOnce(Format format) throws Exception {
    String app = TestPipeline.uniqueApp("conf_delete_" + format.name().toLowerCase());
    SpindriftRuntime runtime = TestPipeline.runtime(app);
    Sink sink = sink(runtime, format, Mode.UPSERT, app);
    PendingPublish first = staged(sink, app, 1, changes("u1=e1", "u2=e2", "u3=e3", "u4=e4"));
    assertThat(sink.publish(List.of(first))).containsExactly(1L);
    assertThat(actual(runtime, format, app, Mode.UPSERT))
        .isEqualTo(Map.of("u1", "e1", "u2", "e2", "u3", "e3", "u4", "e4"));

    // one batch: a delete of an existing key, an insert then a delete, a delete then a re-insert, an unknown key
    PendingPublish second = staged(sink, app, 2, changes("-u1", "u5=e5", "-u5", "-u2", "u2=e22", "-u9"));
    // the next batch deletes a key of the first and re-inserts the key the second deleted; both roll forward at once
    PendingPublish third = staged(sink, app, 3, changes("-u3", "u1=e31"));
    assertThat(sink.publish(List.of(first, second, third))).containsExactly(2L, 3L);
    Map<String, String> expected = Map.of("u1", "e31", "u2", "e22", "u4", "e4");
    assertThat(actual(runtime, format, app, Mode.UPSERT)).isEqualTo(expected);

    // published again (a retry, a duplicate, a roll-forward in another container): nothing changes
    assertThat(sink.publish(List.of(second, third))).isEmpty();
    assertThat(sink(runtime, format, Mode.UPSERT, app).publish(List.of(first, second, third))).isEmpty();
    assertThat(actual(runtime, format, app, Mode.UPSERT)).isEqualTo(expected);
    assertThat(read(runtime, format, app).count()).isEqualTo(3);
    assertThat(read(runtime, format, app).columns()).containsExactly("user_id", "event_id");

    // a batch of deletes only, published on its own
    PendingPublish fourth = staged(sink, app, 4, changes("-u4", "-u2"));
    assertThat(sink.publish(List.of(fourth))).containsExactly(4L);
    assertThat(actual(runtime, format, app, Mode.UPSERT)).isEqualTo(Map.of("u1", "e31"));
    assertThat(seqsPerCommit(runtime, format, app).stream().flatMap(List::stream).toList())
        .containsExactly(1L, 2L, 3L, 4L);
    runtime.close();
  }

  @ParameterizedTest(name = "{0}")
  @EnumSource(Format.class)
  void aDeleteInALaterPartOfACompositeStageWinsAndARecreateInALaterPartToo(Format format) throws Exception {
    String app = TestPipeline.uniqueApp("conf_composite_del_" + format.name().toLowerCase());
    SpindriftRuntime runtime = TestPipeline.runtime(app);
    Sink sink = sink(runtime, format, Mode.UPSERT, app);
    PendingPublish first = fannedOut(sink, app, 1,
        changes("u1=e1", "u2=e2", "u4=e4"), changes("u2=e12", "u3=e3", "-u4"));
    assertThat(sink.publish(List.of(first))).containsExactly(1L);
    assertThat(actual(runtime, format, app, Mode.UPSERT)).isEqualTo(Map.of("u1", "e1", "u2", "e12", "u3", "e3"));

    PendingPublish second = fannedOut(sink, app, 2, changes("-u1", "u3=e13"), changes("u1=e21", "-u3"));
    assertThat(sink.publish(List.of(first, second))).containsExactly(2L);
    assertThat(sink.publish(List.of(first, second))).isEmpty();
    assertThat(actual(runtime, format, app, Mode.UPSERT)).isEqualTo(Map.of("u1", "e21", "u2", "e12"));
    // each seq is one table commit carrying its tag
    assertThat(seqsPerCommit(runtime, format, app)).containsExactly(List.of(1L), List.of(2L));
    runtime.close();
  }

  private static SpindriftRuntime kafkaRuntime(String app, Format format, Mode mode) {
    Map<String, String> settings = new HashMap<>(Map.of("SPINDRIFT_JOB", ChangeJobs.KafkaOrders.class.getName(),
        "SPINDRIFT_SINK_FORMAT", format.name().toLowerCase(), "SPINDRIFT_SINK_MODE", mode.name().toLowerCase()));
    if (mode == Mode.UPSERT) {
      settings.put("SPINDRIFT_SINK_KEYS", "order_id");
    }
    return TestPipeline.runtime(app, settings);
  }

  private static LambdaInvoker mskInvoker(SpindriftRuntime runtime) {
    return new InProcessInvoker<>(new MskHandler(runtime), KafkaEvent.class, KafkaBatchResponse.class, 1);
  }

  private static KafkaEvents.KeyValue order(String id, String status, long amount) {
    return KafkaEvents.record(id, "{\"order_id\":\"" + id + "\",\"status\":\"" + status + "\",\"amount\":" + amount + "}");
  }

  private static KafkaEvents.KeyValue tombstone(String id) {
    return KafkaEvents.record(id, null);
  }

  /** order_id -> status|amount, one entry per row (a second row for a key fails). */
  private static Map<String, String> orders(SpindriftRuntime runtime, Format format, String table) {
    Map<String, String> out = new HashMap<>();
    for (Row row : read(runtime, format, table).select("order_id", "status", "amount").collectAsList()) {
      assertThat(out.put(row.getString(0), row.getString(1) + "|" + row.getLong(2)))
          .as("a second row for %s", row.get(0)).isNull();
    }
    return out;
  }

  @ParameterizedTest(name = "{0}")
  @EnumSource(Format.class)
  void kafkaTombstonesDeleteTheirKeysExactlyOnceUnderDuplicatesRetriesAndCrashes(Format format) throws Exception {
    String app = TestPipeline.uniqueApp("conf_tomb_" + format.name().toLowerCase());
    String topic = "orders";
    List<KafkaEvents.KeyValue> inserts = List.of(order("o1", "new", 10), order("o2", "new", 20),
        order("o3", "new", 30), order("o4", "new", 40), order("o5", "new", 50));
    List<KafkaEvents.KeyValue> changes = List.of(tombstone("o1"), order("o6", "new", 60), tombstone("o6"),
        tombstone("o2"), order("o2", "again", 22), tombstone("o9"), KafkaEvents.record(null, null));
    List<KafkaEvents.KeyValue> later = List.of(tombstone("o3"), order("o1", "again", 11));
    List<KafkaEvents.KeyValue> last = List.of(tombstone("o4"));

    SpindriftRuntime first = kafkaRuntime(app, format, Mode.UPSERT);
    mskInvoker(first).invoke(KafkaEvents.event(topic, 0, 0, inserts));
    // a duplicated batch with deletes
    String changed = mskInvoker(first).invoke(KafkaEvents.event(topic, 0, 5, changes));
    mskInvoker(first).invoke(KafkaEvents.event(topic, 0, 5, changes));
    assertThat(changed).contains("\"batchItemFailures\":[]");
    // a retry after a failure between staging and commit
    RuntimeHooks.faults(first).arm(FaultPoint.AFTER_STAGE, 1);
    assertThatThrownBy(() -> mskInvoker(first).invoke(KafkaEvents.event(topic, 0, 12, later)))
        .hasMessageContaining("AFTER_STAGE");
    mskInvoker(first).invoke(KafkaEvents.event(topic, 0, 12, later));
    // a crash after commit: Lambda's retry in a fresh container rolls it forward and changes nothing else
    RuntimeHooks.faults(first).arm(FaultPoint.AFTER_COMMIT, 1);
    assertThatThrownBy(() -> mskInvoker(first).invoke(KafkaEvents.event(topic, 0, 14, last)))
        .hasMessageContaining("AFTER_COMMIT");
    SpindriftRuntime second = kafkaRuntime(app, format, Mode.UPSERT);
    mskInvoker(second).invoke(KafkaEvents.event(topic, 0, 14, last));
    mskInvoker(second).invoke(KafkaEvents.event(topic, 0, 5, changes));

    assertThat(orders(second, format, app)).isEqualTo(Map.of("o1", "again|11", "o2", "again|22", "o5", "new|50"));
    List<Row> rejects = read(second, format, app + "_rejects").select("lane", "position", "error").collectAsList();
    assertThat(rejects).hasSize(1);
    assertThat(rejects.get(0).getString(0)).isEqualTo("kafka:" + topic + "-0");
    assertThat(rejects.get(0).getString(1)).isEqualTo("11");
    List<Long> seqs = new ArrayList<>();
    commitTags(second, format, app, app).forEach(tag -> seqs.addAll(seqs(tag)));
    assertThat(seqs).containsExactly(1L, 2L, 3L, 4L);
    first.close();
    second.close();
  }

  @ParameterizedTest(name = "{0}")
  @EnumSource(Format.class)
  void aDeleteForAnAppendingSinkIsARejectWithItsLaneAndPosition(Format format) throws Exception {
    String app = TestPipeline.uniqueApp("conf_tomb_append_" + format.name().toLowerCase());
    SpindriftRuntime runtime = kafkaRuntime(app, format, Mode.APPEND);
    String response = mskInvoker(runtime).invoke(KafkaEvents.event("orders", 3, 40,
        List.of(order("o1", "new", 10), tombstone("o1"), order("o2", "new", 20))));

    assertThat(response).contains("\"batchItemFailures\":[]");
    assertThat(orders(runtime, format, app)).isEqualTo(Map.of("o1", "new|10", "o2", "new|20"));
    List<Row> rejects = read(runtime, format, app + "_rejects").select("lane", "position", "error").collectAsList();
    assertThat(rejects).hasSize(1);
    assertThat(rejects.get(0).getString(0)).isEqualTo("kafka:orders-3");
    assertThat(rejects.get(0).getString(1)).isEqualTo("41");
    assertThat(rejects.get(0).getString(2)).contains("needs an upsert sink").contains("appends");
    assertThat(read(runtime, format, app).columns()).doesNotContain(ChangeRows.COLUMN);
    runtime.close();
  }

  private static Path sqlJob(String select, String schema) throws IOException {
    Path file = Files.createTempFile("spindrift-conformance-", ".sql");
    Files.writeString(file, select + ", spindrift_lane, spindrift_position, data AS spindrift_payload,\n"
        + "  CASE WHEN e.event_id IS NULL THEN 'malformed event' END AS spindrift_reject\n"
        + "FROM (SELECT from_json(CAST(data AS STRING), '" + schema + "') AS e, data, spindrift_lane,\n"
        + "  spindrift_position FROM events)\n");
    file.toFile().deleteOnExit();
    return file;
  }
}
