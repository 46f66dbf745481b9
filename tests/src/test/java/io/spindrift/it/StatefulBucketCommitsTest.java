package io.spindrift.it;

import static org.apache.spark.sql.functions.col;
import static org.assertj.core.api.Assertions.assertThat;

import com.amazonaws.services.lambda.runtime.events.KinesisEvent;
import com.amazonaws.services.lambda.runtime.events.StreamsEventResponse;
import io.spindrift.examples.Clickstream;
import io.spindrift.handler.KinesisHandler;
import io.spindrift.job.JobContext;
import io.spindrift.job.StreamJob;
import io.spindrift.local.mapping.InProcessInvoker;
import io.spindrift.runtime.SpindriftRuntime;
import io.spindrift.sink.SinkSpec;
import io.spindrift.sink.SinkSpec.Format;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.junit.jupiter.api.Test;

/**
 * Bucket commits end to end (SPINDRIFT_STATEFUL_COMMIT_MODE=buckets): two containers run a stateful job's batches
 * of two lanes at the same time, round after round, with keys of the two lanes in disjoint state partitions and
 * with keys that share partitions (windowed counts, where the window picks the partition too). Either way the table
 * holds exactly the counts of every event once.
 */
class StatefulBucketCommitsTest {
  private static final long BASE_MS = 1_795_600_000_000L;
  private static final int ROUNDS = 4;
  private static final int EVENTS = 30;

  /** Views per page so far, in update mode, upserted on the page: its state is keyed by the page alone. */
  public static final class ViewsPerPage implements StreamJob {
    @Override
    public Dataset<Row> transform(Dataset<Row> input, JobContext ctx) {
      return ctx.parseJson(input, Clickstream.EVENT, "event_id", "ts")
          .filter(col(JobContext.REJECT_COLUMN).isNull())
          .groupBy(col("page"))
          .count()
          .select(col("page"), col("count").as("views"));
    }

    @Override
    public SinkSpec sink() {
      return SinkSpec.iceberg("it.views_per_page").upsert("page");
    }

    @Override
    public String outputMode() {
      return "update";
    }
  }

  @Test
  void twoLanesWithKeysInDisjointPartitionsCommitConcurrentlyAndCountEveryEventOnce()
      throws Exception {
    String app = TestPipeline.uniqueApp("buckets_disjoint");
    Map<String, String> settings = Map.of("SPINDRIFT_JOB", ViewsPerPage.class.getName(),
        "SPINDRIFT_STATEFUL_COMMIT_MODE", "buckets", "SPINDRIFT_SHUFFLE_PARTITIONS", "4");
    SpindriftRuntime first = TestPipeline.runtime(app, settings);
    SpindriftRuntime second = TestPipeline.runtime(app, settings);
    // the state partition of a key is Spark's: pmod(murmur3(key), partitions), with the partition count of the
    // JVM's one SparkSession (the first runtime of the test JVM set it; it may differ from this app's setting)
    int partitions = Math.max(2, Integer.parseInt(first.spark().conf().get("spark.sql.shuffle.partitions")));
    List<String> lane0Pages = pagesIn(first, partitions, 0, partitions / 2);
    List<String> lane1Pages = pagesIn(first, partitions, partitions / 2, partitions);

    Run run = runConcurrently(List.of(first, second), List.of(lane0Pages, lane1Pages));

    Map<String, Long> table = new TreeMap<>();
    for (Row row : SinkConformanceTest.read(first, Format.ICEBERG, app).collectAsList()) {
      table.put(row.getAs("page"), row.<Long>getAs("views"));
    }
    Map<String, Long> expected = new TreeMap<>();
    run.pages().forEach(page -> expected.merge(page, 1L, Long::sum));
    assertThat(run.overlapped()).as("the two lanes' invocations really ran at the same time").isTrue();
    assertThat(table).isEqualTo(expected);
    // pages placed by the session's partition count share no state partition, so no bucket item: no commit re-ran
    assertThat(first.conflicts() + second.conflicts()).as("conflicts of two lanes writing disjoint buckets")
        .isZero();
    first.close();
    second.close();
  }

  @Test
  void twoLanesOfAWindowedCountSharingPartitionsCountEveryEventOnce() throws Exception {
    String app = TestPipeline.uniqueApp("buckets_windows");
    Map<String, String> settings = Map.of("SPINDRIFT_JOB", StatefulUpdateModeTest.ViewCountsUpdated.class.getName(),
        "SPINDRIFT_STATEFUL_COMMIT_MODE", "buckets", "SPINDRIFT_SHUFFLE_PARTITIONS", "4");
    SpindriftRuntime first = TestPipeline.runtime(app, settings);
    SpindriftRuntime second = TestPipeline.runtime(app, settings);

    Run run = runConcurrently(List.of(first, second), List.of(List.of("/a", "/b", "/c"), List.of("/x", "/y")));

    Map<String, Long> table = new TreeMap<>();
    for (Row row : SinkConformanceTest.read(first, Format.ICEBERG, app).collectAsList()) {
      table.put(row.getAs("window_start").toString().substring(0, 19) + " " + row.getAs("page"),
          row.<Long>getAs("views"));
    }
    Map<String, Long> expected = new TreeMap<>();
    for (int i = 0; i < run.pages().size(); i++) {
      long window = run.seconds().get(i) / 10 * 10;
      String start = java.sql.Timestamp.from(Instant.ofEpochMilli(BASE_MS + window * 1000)).toString();
      expected.merge(start.substring(0, 19) + " " + run.pages().get(i), 1L, Long::sum);
    }
    assertThat(run.overlapped()).as("the two lanes' invocations really ran at the same time").isTrue();
    assertThat(table).isEqualTo(expected);
    assertThat(table.values().stream().mapToLong(Long::longValue).sum()).isEqualTo(2L * ROUNDS * EVENTS);
    first.close();
    second.close();
  }

  /** The events delivered (page and event-time second of each) and whether two invocations overlapped in time. */
  private record Run(List<String> pages, List<Long> seconds, boolean overlapped) {}

  /**
   * {@value #ROUNDS} rounds; in each, container i delivers {@value #EVENTS} events of lane i (pages cycled from its
   * list, event times moving on together so no row is late), both starting at once.
   */
  private static Run runConcurrently(List<SpindriftRuntime> containers, List<List<String>> pagesPerLane)
      throws Exception {
    int lanes = containers.size();
    CyclicBarrier round = new CyclicBarrier(lanes);
    ExecutorService pool = Executors.newFixedThreadPool(lanes);
    List<String> pages = java.util.Collections.synchronizedList(new ArrayList<>());
    List<Long> seconds = java.util.Collections.synchronizedList(new ArrayList<>());
    List<long[]> intervals = java.util.Collections.synchronizedList(new ArrayList<>());
    List<Future<?>> futures = new ArrayList<>();
    for (int lane = 0; lane < lanes; lane++) {
      int l = lane;
      futures.add(pool.submit(() -> {
        InProcessInvoker<KinesisEvent, StreamsEventResponse> invoker = new InProcessInvoker<>(
            new KinesisHandler(containers.get(l)), KinesisEvent.class, StreamsEventResponse.class, 1);
        for (int r = 0; r < ROUNDS; r++) {
          List<byte[]> payloads = new ArrayList<>();
          for (int i = 0; i < EVENTS; i++) {
            String page = pagesPerLane.get(l).get(i % pagesPerLane.get(l).size());
            long second = r * 5L + i % 5;
            String ts = Instant.ofEpochMilli(BASE_MS + second * 1000).toString();
            payloads.add(("{\"event_id\":\"e-" + l + "-" + r + "-" + i + "\",\"user_id\":\"u\",\"page\":\"" + page
                + "\",\"ts\":\"" + ts + "\"}").getBytes(StandardCharsets.UTF_8));
            pages.add(page);
            seconds.add(second);
          }
          round.await(2, TimeUnit.MINUTES);
          long start = System.nanoTime();
          String response = invoker.invoke(KinesisEvents.event("clicks", "shardId-00000000000" + l,
              (long) r * EVENTS, payloads));
          intervals.add(new long[] {l, start, System.nanoTime()});
          assertThat(response).doesNotContain("itemIdentifier");
        }
        return null;
      }));
    }
    for (Future<?> future : futures) {
      future.get(10, TimeUnit.MINUTES);
    }
    pool.shutdown();
    boolean overlapped = false;
    for (long[] a : intervals) {
      for (long[] b : intervals) {
        overlapped |= a[0] != b[0] && a[1] < b[2] && b[1] < a[2];
      }
    }
    return new Run(List.copyOf(pages), List.copyOf(seconds), overlapped);
  }

  /** Three page names whose state partition (of {@code count}) is in [from, to), as Spark's shuffle places them. */
  private static List<String> pagesIn(SpindriftRuntime runtime, int count, int from, int to) {
    List<String> out = new ArrayList<>();
    for (int i = 0; out.size() < 3; i++) {
      String page = "/p" + i;
      int partition = runtime.spark().sql("SELECT pmod(hash('" + page + "'), " + count + ")").first().getInt(0);
      if (partition >= from && partition < to) {
        out.add(page);
      }
    }
    return out;
  }
}
