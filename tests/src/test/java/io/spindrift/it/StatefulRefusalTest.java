package io.spindrift.it;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.window;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.amazonaws.services.lambda.runtime.events.KinesisEvent;
import com.amazonaws.services.lambda.runtime.events.StreamsEventResponse;
import io.spindrift.examples.Clickstream;
import io.spindrift.handler.KinesisHandler;
import io.spindrift.job.JobContext;
import io.spindrift.job.StreamJob;
import io.spindrift.local.mapping.InProcessInvoker;
import io.spindrift.local.mapping.LambdaInvoker;
import io.spindrift.runtime.SpindriftRuntime;
import io.spindrift.sink.SinkSpec;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.junit.jupiter.api.Test;

/** Jobs Spindrift cannot run correctly one micro-batch per invocation are refused before any record is processed. */
class StatefulRefusalTest {
  private static void assertRefused(Class<? extends StreamJob> job, String... messageParts) {
    String app = TestPipeline.uniqueApp("refused");
    SpindriftRuntime runtime = TestPipeline.runtime(app, job.getName());
    String event = KinesisEvents.event("clicks", "shardId-000000000000", 0, List.of(
        "{\"event_id\":\"a\",\"user_id\":\"u\",\"page\":\"/\",\"ts\":\"2026-01-01T00:00:00Z\"}"
            .getBytes(StandardCharsets.UTF_8)));
    var refusal = assertThatThrownBy(() -> new InProcessInvoker<>(new KinesisHandler(runtime), KinesisEvent.class,
        StreamsEventResponse.class, 1).invoke(event)).isInstanceOf(LambdaInvoker.FunctionError.class);
    for (String part : messageParts) {
      refusal.hasMessageContaining(part);
    }
    runtime.close();
  }

  @Test
  void completeOutputModeIsRefusedNamingTheModeAndWhatToUseInstead() {
    assertRefused(CompleteCounts.class, "output mode 'complete'", "Use output mode 'append' with a watermark");
  }

  @Test
  void aLimitOnTheStreamIsRefusedNamingTheOperator() {
    assertRefused(FirstTen.class, "GlobalLimit", "Filter the stream instead");
  }

  @Test
  void whatSparkRefusesIsRefusedWhenTheJobIsLoaded() {
    assertRefused(CountsWithoutWatermark.class, "output mode 'append'", "watermark");
  }

  /** Views per page and 10-second window, whole table every batch. */
  public static final class CompleteCounts implements StreamJob {
    @Override
    public Dataset<Row> transform(Dataset<Row> input, JobContext ctx) {
      return CountsWithoutWatermark.counts(input, ctx);
    }

    @Override
    public SinkSpec sink() {
      return SinkSpec.iceberg("it.complete");
    }

    @Override
    public String outputMode() {
      return "complete";
    }
  }

  /** Views per page and 10-second window with no watermark: append mode could never emit a window. */
  public static final class CountsWithoutWatermark implements StreamJob {
    @Override
    public Dataset<Row> transform(Dataset<Row> input, JobContext ctx) {
      return counts(input, ctx);
    }

    static Dataset<Row> counts(Dataset<Row> input, JobContext ctx) {
      return ctx.parseJson(input, Clickstream.EVENT, "event_id", "ts")
          .filter(col(JobContext.REJECT_COLUMN).isNull())
          .groupBy(window(col("ts"), "10 seconds"), col("page"))
          .count()
          .select(col("window.start").as("window_start"), col("page"), col("count").as("views"));
    }

    @Override
    public SinkSpec sink() {
      return SinkSpec.iceberg("it.no_watermark");
    }
  }

  /** The first ten views ever. */
  public static final class FirstTen implements StreamJob {
    @Override
    public Dataset<Row> transform(Dataset<Row> input, JobContext ctx) {
      return ctx.parseJson(input, Clickstream.EVENT, "event_id", "ts")
          .filter(col(JobContext.REJECT_COLUMN).isNull())
          .select("event_id", "page")
          .limit(10);
    }

    @Override
    public SinkSpec sink() {
      return SinkSpec.iceberg("it.first_ten");
    }
  }
}
