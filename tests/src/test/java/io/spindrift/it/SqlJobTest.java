package io.spindrift.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.amazonaws.services.lambda.runtime.events.KinesisEvent;
import com.amazonaws.services.lambda.runtime.events.StreamsEventResponse;
import io.spindrift.handler.KinesisHandler;
import io.spindrift.local.mapping.InProcessInvoker;
import io.spindrift.runtime.SpindriftRuntime;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

/** A SQL-file job over the view {@code events} runs like a Java job, rejects included. */
class SqlJobTest {
  @Test
  void sqlJobFromTheClasspathLandsRowsAndRejects() throws Exception {
    String app = TestPipeline.uniqueApp("sql");
    SpindriftRuntime runtime = TestPipeline.runtime(app, "classpath:jobs/clickstream.sql");
    List<byte[]> clicks = KinesisEvents.clicks(30, 41);
    clicks.set(7, "not json".getBytes(StandardCharsets.UTF_8));

    new InProcessInvoker<>(new KinesisHandler(runtime), KinesisEvent.class, StreamsEventResponse.class, 1)
        .invoke(KinesisEvents.event("clicks", "shardId-000000000000", 0, clicks));

    assertThat(TestPipeline.count(runtime, "it." + app)).isEqualTo(29);
    assertThat(TestPipeline.count(runtime, "it." + app + "_rejects")).isEqualTo(1);
    assertThat(TestPipeline.rows(runtime, "SELECT * FROM " + TestPipeline.qualified(runtime, "it." + app)).get(0)
        .schema().fieldNames()).containsExactly("event_id", "user_id", "action", "page", "ts");
    runtime.close();
  }
}
