package io.spindrift.it;

import io.spindrift.examples.Clickstream;
import io.spindrift.examples.ClickstreamGenerator;
import io.spindrift.runtime.SpindriftRuntime;
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
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.UUID;
import java.util.stream.Collectors;
import org.apache.hadoop.fs.GlobalStorageStatistics;
import org.apache.hadoop.fs.StorageStatistics;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.catalyst.InternalRow;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;

/**
 * Stage and publish latency per table format, write mode and batch size on the local stack, with the settings
 * Spindrift chose for short invocations and with the alternative each replaces (a measurement, not a test:
 * {@code mvn -pl tests test -Dspindrift.bench=true -Dtest=SinkPublishBench}; docs/SINKS.md has the figures).
 * Prints one {@code SINK-BENCH} line per case and a table; figures leave out the first (table-creating) batch,
 * and a warm-up case per format runs first. 21 batches of 1,000 rows let Delta's default interval (10) checkpoint
 * twice, which the p90 and mean show and the median hides. {@code -Dbench.formats=HUDI} and
 * {@code -Dbench.variants=chosen} narrow the run to some formats and settings variants. A {@code SINK-BENCH-S3}
 * line per case gives the S3 requests of a publish (means over the warm publishes, by S3A's request statistics):
 * on the local stack a publish waits mostly for those, not for its own CPU.
 */
@EnabledIfSystemProperty(named = "spindrift.bench", matches = "true")
class SinkPublishBench {
  /** Per format: settings variant name to the settings it changes ("chosen" is Spindrift's defaults). */
  private static final Map<Format, Map<String, Map<String, String>>> VARIANTS = Map.of(
      Format.ICEBERG, Map.of("chosen", Map.of()),
      Format.DELTA, ordered("chosen", Map.of(),
          "checkpointInterval=10 (Delta's default)", Map.of("SPINDRIFT_DELTA_CHECKPOINT_INTERVAL", "10")),
      Format.HUDI, ordered("chosen", Map.of(),
          "metadata table on (Hudi's default)", Map.of("SPINDRIFT_HUDI_METADATA_TABLE", "true"),
          "small-file merge (SMALL_FILE_MB=100)", Map.of("SPINDRIFT_HUDI_SMALL_FILE_MB", "100"),
          "no inline clustering (CLUSTER_COMMITS=0)", Map.of("SPINDRIFT_HUDI_CLUSTER_COMMITS", "0"),
          "spark client (SPINDRIFT_HUDI_WRITE_CLIENT=spark)", Map.of("SPINDRIFT_HUDI_WRITE_CLIENT", "spark")));

  /** Variant names to settings, in the order given (name, settings, name, settings, ...). */
  @SuppressWarnings("unchecked")
  private static Map<String, Map<String, String>> ordered(Object... namesAndSettings) {
    Map<String, Map<String, String>> out = new LinkedHashMap<>();
    for (int i = 0; i < namesAndSettings.length; i += 2) {
      out.put((String) namesAndSettings[i], (Map<String, String>) namesAndSettings[i + 1]);
    }
    return out;
  }

  @Test
  void publishLatency() {
    List<String> table = new ArrayList<>();
    table.add(String.format(Locale.ROOT, "%-8s %-7s %6s  %-40s %9s %9s %9s %9s", "format", "mode", "rows",
        "settings", "stage p50", "pub p50", "pub p90", "pub mean"));
    List<String> variants = System.getProperty("bench.variants", "").isBlank() ? List.of()
        : List.of(System.getProperty("bench.variants").split(","));
    for (String name : System.getProperty("bench.formats", "ICEBERG,DELTA,HUDI").split(",")) {
      Format format = Format.valueOf(name);
      measure(format, Mode.APPEND, 1000, 4, Map.of(), new TreeMap<>()); // warm-up: JIT and clients, not reported
      for (Mode mode : Mode.values()) {
        for (int rows : new int[] {1000, 10_000}) {
          for (Map.Entry<String, Map<String, String>> variant : VARIANTS.get(format).entrySet()) {
            if (!variants.isEmpty() && !variants.contains(variant.getKey())) {
              continue;
            }
            Map<String, Double> requests = new TreeMap<>();
            long[] medians = measure(format, mode, rows, rows >= 10_000 ? 8 : 21, variant.getValue(), requests);
            System.out.println(String.format(Locale.ROOT, "SINK-BENCH-S3 %s %s %d %s: %.1f requests per publish (%s)",
                format, mode, rows, variant.getKey(), requests(requests),
                requests.entrySet().stream().filter(e -> e.getValue() >= 0.05)
                    .map(e -> String.format(Locale.ROOT, "%s %.1f", e.getKey(), e.getValue()))
                    .collect(Collectors.joining(", "))));
            String line = String.format(Locale.ROOT, "%-8s %-7s %6d  %-40s %9d %9d %9d %9d", format, mode, rows,
                variant.getKey(), medians[0], medians[1], medians[2], medians[3]);
            System.out.println("SINK-BENCH " + line);
            table.add(line);
          }
        }
      }
    }
    System.out.println(String.join("\n", table));
  }

  /** Publishes {@code batches} stages; adds the mean S3 requests of a warm publish, by kind, to {@code requests}. */
  private static long[] measure(Format format, Mode mode, int rowCount, int batches, Map<String, String> extra,
      Map<String, Double> requests) {
    String app = TestPipeline.uniqueApp("sink_bench");
    SpindriftRuntime runtime = TestPipeline.runtime(app);
    Map<String, String> settings = new HashMap<>(runtime.config().asMap());
    settings.putAll(extra);
    SinkContext context = new SinkContext(app, runtime.spark(), runtime.catalog(),
        runtime.config().stageLocation(), settings);
    List<String> keys = mode == Mode.UPSERT ? List.of("user_id") : List.of();
    Sink sink = Sinks.create(new SinkSpec(format, "bench." + app, mode, keys, null), context);
    StageRows rows = rows(runtime, rowCount);
    List<Long> stage = new ArrayList<>();
    List<Long> publish = new ArrayList<>();
    for (int seq = 1; seq <= batches; seq++) {
      String txnId = UUID.randomUUID().toString();
      long start = System.nanoTime();
      StagedOutput staged = sink.stage(txnId, rows);
      stage.add((System.nanoTime() - start) / 1_000_000);
      Map<String, Long> before = s3Requests();
      start = System.nanoTime();
      sink.publish(List.of(new PendingPublish(new CommitTag(app, seq, txnId, "bench"), staged.ref())));
      publish.add((System.nanoTime() - start) / 1_000_000);
      if (seq > 1) {
        s3Requests().forEach((kind, count) ->
            requests.merge(kind, (count - before.getOrDefault(kind, 0L)) / (double) (batches - 1), Double::sum));
      }
    }
    runtime.close();
    List<Long> warm = publish.subList(1, publish.size());
    return new long[] {median(stage.subList(1, stage.size())), median(warm), percentile(warm, 90),
        warm.stream().mapToLong(Long::longValue).sum() / warm.size()};
  }

  /**
   * The requests of a publish: every kind but {@code action_http_head_request}, the same HEADs S3A also counts as
   * {@code object_metadata_request} (until 2026-12-05 the bench added both, counting each HEAD twice).
   */
  private static double requests(Map<String, Double> byKind) {
    return byKind.entrySet().stream().filter(e -> !e.getKey().equals("action_http_head_request"))
        .mapToDouble(Map.Entry::getValue).sum();
  }

  /**
   * S3 requests this JVM made so far, by kind: the S3A statistics Hadoop registers globally (those of the first S3A
   * file system, the one every table and stage of the local stack's bucket is read and written through).
   */
  private static Map<String, Long> s3Requests() {
    Map<String, Long> out = new TreeMap<>();
    StorageStatistics s3a = GlobalStorageStatistics.INSTANCE.get("S3AStorageStatistics");
    if (s3a != null) {
      s3a.getLongStatistics().forEachRemaining(stat -> {
        if (stat.getName().matches("object_.*_requests?|action_http_(get|head)_request") && stat.getValue() > 0) {
          out.put(stat.getName(), stat.getValue());
        }
      });
    }
    return out;
  }

  private static StageRows rows(SpindriftRuntime runtime, int count) {
    ClickstreamGenerator generator = new ClickstreamGenerator(42, 0, 1_795_390_000_000L);
    List<String> json = new ArrayList<>();
    for (int i = 0; i < count; i++) {
      json.add(new String(generator.next().json(), StandardCharsets.UTF_8));
    }
    StructType schema = Clickstream.EVENT;
    List<InternalRow> internal = runtime.spark().read().schema(schema)
        .json(runtime.spark().createDataset(json, Encoders.STRING()))
        .queryExecution().toRdd().toJavaRDD().map(InternalRow::copy).collect();
    return new StageRows(schema, internal);
  }

  private static long median(List<Long> values) {
    return percentile(values, 50);
  }

  private static long percentile(List<Long> values, int p) {
    List<Long> sorted = new ArrayList<>(values);
    sorted.sort(null);
    return sorted.get(Math.min(sorted.size() - 1, (int) Math.ceil(p / 100.0 * sorted.size()) - 1));
  }
}
