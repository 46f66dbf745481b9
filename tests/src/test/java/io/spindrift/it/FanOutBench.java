package io.spindrift.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.spindrift.config.Setting;
import io.spindrift.config.SpindriftConfig;
import io.spindrift.event.Batch;
import io.spindrift.event.RecordCodec;
import io.spindrift.event.SourceKind;
import io.spindrift.event.SourceRecord;
import io.spindrift.examples.Clickstream;
import io.spindrift.examples.LocalPipeline;
import io.spindrift.examples.PageViewCounts;
import io.spindrift.fanout.LocalProcessInvoker;
import io.spindrift.protocol.BatchOutcome;
import io.spindrift.runtime.SpindriftRuntime;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;

/**
 * Fan-out on this machine, side by side in one run (a measurement, not a test; DESIGN §8, docs/PERFORMANCE.md):
 * weak scaling with 1 and 2 warm local child JVMs (2 cores: as many as the machine allows), the overhead of fan-out
 * against one invocation for the same batch, and a model calibrated on those figures for 64, 256 and 1,000 Lambda
 * children. Run with
 * {@code mvn -pl tests test -Dspindrift.bench=true -Dtest=FanOutBench -Dsurefire.failIfNoSpecifiedTests=false}
 * ({@code -Dfanout.recordsPerChild=5000}, {@code -Dfanout.rounds=3}, {@code -Dfanout.statefulRecordsPerMap=1000}).
 */
@EnabledIfSystemProperty(named = "spindrift.bench", matches = "true")
class FanOutBench {
  // published prices (us-east-1, 2026): Lambda x86 per GB-s and per request, S3 standard PUT and GET
  private static final double LAMBDA_GB_SECOND = 0.0000166667;
  private static final double LAMBDA_REQUEST = 0.20 / 1_000_000;
  private static final double S3_PUT = 0.005 / 1_000;
  private static final double S3_GET = 0.0004 / 1_000;
  private static final double CHILD_GB = 3.0;
  private static final double NETWORK_BYTES_PER_SECOND = 75e6;
  private static final double COLD_START_SECONDS = 5.0;

  @Test
  void weakScalingOverheadAndModel() throws Exception {
    int perChild = Integer.getInteger("fanout.recordsPerChild", 5000);
    int rounds = Integer.getInteger("fanout.rounds", 3);
    long next = 0;
    List<String> lines = new ArrayList<>();
    double singleMsPerRecord = 0;
    double childRecordsPerSecond = 0;
    long bytesPerRecord = 0;
    // one invocation, same batch sizes
    String singleApp = TestPipeline.uniqueApp("fanbench_single");
    Map<Integer, Double> singleMs = new HashMap<>();
    try (SpindriftRuntime single = TestPipeline.runtime(singleApp, Clickstream.class.getName())) {
      single.process(new Batch(SourceKind.KINESIS, FanOutTest.events("b", next, 500, false)));
      next += 500;
      for (int k = 1; k <= 2; k++) {
        List<Long> times = new ArrayList<>();
        for (int r = 0; r < rounds; r++) {
          List<SourceRecord> batch = FanOutTest.events("b", next, k * perChild, false);
          next += batch.size();
          bytesPerRecord = RecordCodec.encode(batch).length / batch.size();
          long start = System.nanoTime();
          BatchOutcome outcome = single.process(new Batch(SourceKind.KINESIS, batch));
          times.add((System.nanoTime() - start) / 1_000_000);
          assertThat(outcome.records()).isEqualTo(batch.size());
        }
        singleMs.put(k, median(times));
      }
      singleMsPerRecord = singleMs.get(1) / perChild;
    }
    Map<Integer, Double> fanMs = new HashMap<>();
    for (int k = 1; k <= 2; k++) {
      String app = TestPipeline.uniqueApp("fanbench_" + k);
      Map<String, String> settings = new HashMap<>();
      settings.put("SPINDRIFT_APP", app);
      settings.put("SPINDRIFT_JOB", Clickstream.class.getName());
      settings.put("SPINDRIFT_SINK_TABLE", "it." + app);
      settings.put(Setting.FANOUT.key(), "always");
      settings.put(Setting.FANOUT_RECORDS_PER_CHILD.key(), Integer.toString(perChild / 2));
      SpindriftConfig config = LocalPipeline.config(TestPipeline.stack(), settings);
      try (LocalProcessInvoker children = new LocalProcessInvoker(config.asMap(), k);
          SpindriftRuntime parent = SpindriftRuntime.create(config, children)) {
        // warm every child (first query in a JVM) before timing
        parent.process(new Batch(SourceKind.KINESIS, FanOutTest.events("b", next, k * perChild, false)));
        next += k * perChild;
        List<Long> times = new ArrayList<>();
        for (int r = 0; r < rounds; r++) {
          List<SourceRecord> batch = FanOutTest.events("b", next, k * perChild, false);
          next += batch.size();
          long start = System.nanoTime();
          BatchOutcome outcome = parent.process(new Batch(SourceKind.KINESIS, batch));
          times.add((System.nanoTime() - start) / 1_000_000);
          assertThat(outcome.records()).isEqualTo(batch.size());
          assertThat(parent.lastFanOut(SourceKind.KINESIS).plan().splits()).isEqualTo(2 * k);
        }
        fanMs.put(k, median(times));
      }
    }
    childRecordsPerSecond = perChild / (fanMs.get(1) / 1000.0);
    lines.add(String.format(Locale.ROOT, "FANOUT-BENCH local: %d records per child process, %d rounds (median ms)",
        perChild, rounds));
    lines.add("| children (JVMs) | batch records | one invocation ms | fan-out ms | fan-out / one invocation |");
    lines.add("|---|---|---|---|---|");
    for (int k = 1; k <= 2; k++) {
      lines.add(String.format(Locale.ROOT, "| %d | %d | %.0f | %.0f | %.2f |", k, k * perChild, singleMs.get(k),
          fanMs.get(k), fanMs.get(k) / singleMs.get(k)));
    }
    lines.add(String.format(Locale.ROOT, "weak scaling efficiency (1 child time / 2 children time, same work per"
        + " child): %.2f", fanMs.get(1) / fanMs.get(2)));
    lines.add(String.format(Locale.ROOT, "calibration: %.0f records/s per child, %d bytes per record, one"
        + " invocation %.3f ms per record", childRecordsPerSecond, bytesPerRecord, singleMsPerRecord));
    lines.addAll(model(childRecordsPerSecond, bytesPerRecord));
    lines.forEach(System.out::println);
  }

  /**
   * The stateful exchange on this machine: a windowed count ({@link PageViewCounts}) over batches of {@code 4 ×
   * fanout.statefulRecordsPerMap} records, 4 partition maps and R = 2 reducers (the local pipeline's 2 state
   * partitions), in one level and in two (forced: 2 combiners), against one invocation of the same batches; children are 2 warm local
   * JVMs (timed) and, for the S3 requests per exchange, threads of this JVM, whose requests the SDK interceptor
   * ({@link AwsRequestLog}) counts (child JVMs' requests are not seen by it), beside the formulas FanOutTest pins.
   */
  @Test
  void statefulExchangeOneAndTwoLevels() throws Exception {
    int perMap = Integer.getInteger("fanout.statefulRecordsPerMap", 1000);
    int rounds = Integer.getInteger("fanout.rounds", 3);
    int batchSize = 4 * perMap;
    String job = PageViewCounts.class.getName();
    List<String> lines = new ArrayList<>();
    lines.add(String.format(Locale.ROOT, "FANOUT-BENCH stateful: windowed count, %d records per batch, 4 partition"
        + " maps, 2 reducers (2 state partitions), %d rounds (median ms)", batchSize, rounds));
    lines.add("| run | children | ms | / one invocation |");
    lines.add("|---|---|---|---|");
    long next = 0;
    double single;
    try (SpindriftRuntime one = TestPipeline.runtime(TestPipeline.uniqueApp("fanbench_state_one"), job)) {
      one.process(new Batch(SourceKind.KINESIS, FanOutTest.events("s", next, batchSize, false)));
      next += batchSize;
      List<Long> times = new ArrayList<>();
      for (int r = 0; r < rounds; r++) {
        List<SourceRecord> batch = FanOutTest.events("s", next, batchSize, false);
        next += batchSize;
        long start = System.nanoTime();
        one.process(new Batch(SourceKind.KINESIS, batch));
        times.add((System.nanoTime() - start) / 1_000_000);
      }
      single = median(times);
    }
    lines.add(String.format(Locale.ROOT, "| one invocation | - | %.0f | 1.00 |", single));
    List<String> requests = new ArrayList<>();
    requests.add("FANOUT-BENCH stateful S3 requests per exchange (shuffle keys, SDK interceptor, in-process children)");
    requests.add("| levels | maps M | combiners G | reducers R | PUT | formula 2+2M+2G+R | GET | GET = 1+M+ranged reads |"
        + " ranged reads (bound) |");
    requests.add("|---|---|---|---|---|---|---|---|---|");
    for (int levels = 1; levels <= 2; levels++) {
      Map<String, String> settings = new HashMap<>();
      String app = TestPipeline.uniqueApp("fanbench_state_" + levels);
      settings.put("SPINDRIFT_APP", app);
      settings.put("SPINDRIFT_JOB", job);
      settings.put("SPINDRIFT_SINK_TABLE", "it." + app);
      settings.put(Setting.FANOUT.key(), "always");
      settings.put(Setting.FANOUT_RECORDS_PER_CHILD.key(), Integer.toString(perMap));
      settings.put(Setting.FANOUT_TWO_LEVEL_CHILDREN.key(), levels == 2 ? "2" : "1000");
      SpindriftConfig config = LocalPipeline.config(TestPipeline.stack(), settings);
      try (LocalProcessInvoker children = new LocalProcessInvoker(config.asMap(), 2);
          SpindriftRuntime parent = SpindriftRuntime.create(config, children)) {
        parent.process(new Batch(SourceKind.KINESIS, FanOutTest.events("s", 0, batchSize, false)));
        long at = batchSize;
        List<Long> times = new ArrayList<>();
        for (int r = 0; r < rounds; r++) {
          List<SourceRecord> batch = FanOutTest.events("s", at, batchSize, false);
          at += batchSize;
          long start = System.nanoTime();
          parent.process(new Batch(SourceKind.KINESIS, batch));
          times.add((System.nanoTime() - start) / 1_000_000);
          assertThat(parent.lastFanOut(SourceKind.KINESIS).plan().combiners()).isEqualTo(levels == 2 ? 2 : 0);
        }
        double ms = median(times);
        lines.add(String.format(Locale.ROOT, "| fan-out, %d level%s | 2 JVMs | %.0f | %.2f |", levels,
            levels == 2 ? "s" : "", ms, ms / single));
      }
      String counted = TestPipeline.uniqueApp("fanbench_state_req_" + levels);
      Map<String, String> inProcess = new HashMap<>(settings);
      inProcess.put(Setting.FANOUT_INVOKER.key(), "in-process");
      try (SpindriftRuntime parent = TestPipeline.runtime(counted, withJob(inProcess, job))) {
        parent.process(new Batch(SourceKind.KINESIS, FanOutTest.events("s", 0, batchSize, false)));
        AwsRequestLog.start();
        parent.process(new Batch(SourceKind.KINESIS, FanOutTest.events("s", batchSize, batchSize, false)));
        List<AwsRequestLog.Request> made = AwsRequestLog.stop();
        io.spindrift.fanout.FanOutMicroBatch.FanOutReport report = parent.lastFanOut(SourceKind.KINESIS);
        int m = report.plan().splits();
        int g = report.plan().combiners();
        int r = report.plan().reducers();
        long puts = shuffle(made, "PutObject");
        long gets = shuffle(made, "GetObject");
        requests.add(String.format(Locale.ROOT, "| %d | %d | %d | %d | %d | %d | %d | %d | %d (%d) |", levels, m, g,
            r, puts, 2 + 2 * m + 2 * g + r, gets, 1 + m + report.rangedReads(), report.rangedReads(),
            g == 0 ? m * r : m + g * r));
      }
    }
    lines.addAll(requests);
    lines.forEach(System.out::println);
  }

  private static Map<String, String> withJob(Map<String, String> settings, String job) {
    Map<String, String> out = new HashMap<>(settings);
    out.remove("SPINDRIFT_APP");
    out.remove("SPINDRIFT_SINK_TABLE");
    out.put("SPINDRIFT_JOB", job);
    return out;
  }

  private static long shuffle(List<AwsRequestLog.Request> requests, String operation) {
    return requests.stream().filter(r -> r.service().equals("S3") && r.operation().equals(operation)
        && r.target().contains("/shuffle/")).count();
  }

  /**
   * Time, S3 requests and dollars for N Lambda children, from the local per-child rate: a child reads its split
   * (network at 75 MB/s), processes it at the calibrated rate, stages output, answers; a stateless exchange makes
   * 2 + N PUT and 1 + N GET (FanOutTest pins these), staging adds about 2 PUT per child. Assumes no throttling and
   * keys spread over prefixes (N ≤ 3,500 PUT/s per prefix, 256 prefixes). Input is split from S3, not through the
   * parent (the parent-written input object of today's exchange caps at what one invocation can write).
   */
  private static List<String> model(double recordsPerSecond, long bytesPerRecord) {
    List<String> out = new ArrayList<>();
    double bytesPerSecond = recordsPerSecond * bytesPerRecord;
    out.add("FANOUT-BENCH model (per-child rate calibrated above; 3 GB children; 75 MB/s per child; cold start 5 s):");
    out.add("| work | children | seconds | S3 PUT | S3 GET | $ |");
    out.add("|---|---|---|---|---|---|");
    for (double gb : new double[] {100, 1000}) {
      for (int n : new int[] {64, 256, 1000}) {
        double bytes = gb * 1e9;
        double perChild = bytes / n;
        double seconds = COLD_START_SECONDS + perChild / NETWORK_BYTES_PER_SECOND + perChild / bytesPerSecond;
        long puts = 2 + n + 2L * n;
        long gets = 1 + n;
        double dollars = n * seconds * CHILD_GB * LAMBDA_GB_SECOND + n * LAMBDA_REQUEST + puts * S3_PUT
            + gets * S3_GET;
        out.add(String.format(Locale.ROOT, "| %.0f GB transform | %d | %.0f | %d | %d | %.2f |", gb, n, seconds,
            puts, gets, dollars));
      }
    }
    out.add(String.format(Locale.ROOT, "S3 requests per GB moved through the exchange at N=1000 over 1 TB: %.1f",
        (2 + 1000 + 2 * 1000 + 1 + 1000) / 1000.0));
    out.addAll(statefulExchangeModel());
    out.add("Qubole (published): 100 GB sort, 400 executors, 579.7 s, ~$7.50; 1 TB scan, 1,000 Lambdas, 47 s, $1.18");
    return out;
  }

  /**
   * The stateful exchange's requests at N partition maps and N reducers, by the formulas FanOutTest pins (every
   * (map, reducer) range non-empty): one level 2 + 3N PUT, 1 + N + N² GET; two levels (G = ⌈√N⌉ combiners)
   * 2 + 3N + 2G PUT, 1 + 2N + G·N GET. A reducer's ranged GETs (N, or G) at 16 in parallel and an assumed 25 ms each;
   * the combiners' extra pass moves 1/G of the data each at 75 MB/s.
   */
  private static List<String> statefulExchangeModel() {
    List<String> out = new ArrayList<>();
    out.add("FANOUT-BENCH stateful exchange model (N maps, N reducers; 100 GB shuffled; 25 ms per ranged GET, 16"
        + " at once):");
    out.add("| N | levels | S3 PUT | S3 GET | S3 $ | GETs per reducer | reducer GET time s | KB per range |"
        + " combiner pass s |");
    out.add("|---|---|---|---|---|---|---|---|---|");
    double bytes = 100e9;
    for (int n : new int[] {64, 256, 1000}) {
      int g = (int) Math.ceil(Math.sqrt(n));
      long[][] requests = {{2 + 3L * n, 1 + n + (long) n * n}, {2 + 3L * n + 2L * g, 1 + 2L * n + (long) g * n}};
      int[] perReducer = {n, g};
      for (int level = 0; level < 2; level++) {
        double dollars = requests[level][0] * S3_PUT + requests[level][1] * S3_GET;
        out.add(String.format(Locale.ROOT, "| %d | %d | %d | %d | %.3f | %d | %.2f | %.0f | %s |", n, level + 1,
            requests[level][0], requests[level][1], dollars, perReducer[level],
            Math.ceil(perReducer[level] / 16.0) * 0.025, bytes / n / perReducer[level] / 1e3,
            level == 0 ? "-" : String.format(Locale.ROOT, "%.0f", bytes / g / NETWORK_BYTES_PER_SECOND)));
      }
    }
    return out;
  }

  private static double median(List<Long> values) {
    List<Long> sorted = new ArrayList<>(values);
    sorted.sort(null);
    return sorted.get(sorted.size() / 2);
  }
}
