package io.spindrift.event;

import static org.assertj.core.api.Assertions.assertThat;

import com.amazonaws.services.lambda.runtime.events.KafkaEvent;
import com.amazonaws.services.lambda.runtime.events.KinesisEvent;
import com.amazonaws.services.lambda.runtime.serialization.events.LambdaEventSerializers;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

/** AWS's own sample events, deserialized as the Lambda runtime does, decode to lanes and positions. */
class EventDecoderTest {
  private static <T> T sample(String name, Class<T> type) throws IOException {
    try (InputStream in = EventDecoderTest.class.getResourceAsStream("/events/" + name)) {
      return LambdaEventSerializers.serializerFor(type, type.getClassLoader()).fromJson(in);
    }
  }

  @Test
  void kinesisSampleDecodesToShardLaneAndSequencePositions() throws IOException {
    Batch batch = EventDecoder.decode(sample("kinesis-event.json", KinesisEvent.class));

    assertThat(batch.kind()).isEqualTo(SourceKind.KINESIS);
    assertThat(batch.lanes()).containsExactly("kinesis:lambda-stream/shardId-000000000006");
    KinesisRecord first = (KinesisRecord) batch.records().get(0);
    assertThat(first.position()).isEqualTo("49590338271490256608559692538361571095921575989136588898");
    assertThat(new String(first.data(), StandardCharsets.UTF_8)).isEqualTo("Hello, this is a test.");
    assertThat(first.arrivalMs()).isEqualTo(1545084650987L);
    assertThat(first.partitionKey()).isEqualTo("1");
    assertThat(batch.records().get(1).position()).isEqualTo("49590338271490256608559692540925702759324208523137515618");
  }

  @Test
  void mskSampleDecodesToPartitionLaneOffsetsAndHeaders() throws IOException {
    Batch batch = EventDecoder.decode(sample("msk-event.json", KafkaEvent.class));

    assertThat(batch.kind()).isEqualTo(SourceKind.KAFKA);
    assertThat(batch.lanes()).containsExactly("kafka:mytopic-0");
    KafkaRecord record = (KafkaRecord) batch.records().get(0);
    assertThat(record.offset()).isEqualTo(15);
    assertThat(record.timestampMs()).isEqualTo(1545084650987L);
    assertThat(new String(record.value(), StandardCharsets.UTF_8)).isEqualTo("Hello, this is a test.");
    assertThat(record.headers()).hasSize(1);
    assertThat(record.headers().get(0).getKey()).isEqualTo("headerKey");
    assertThat(new String(record.headers().get(0).getValue(), StandardCharsets.UTF_8)).isEqualTo("headerValue");
  }

  @Test
  void selfManagedKafkaSampleDecodesToTheSameLanesAsMsk() throws IOException {
    KafkaEvent event = sample("self-managed-kafka-event.json", KafkaEvent.class);

    Batch batch = EventDecoder.decode(event);

    assertThat(event.getEventSource()).isEqualTo(EventDecoder.SELF_MANAGED_KAFKA);
    assertThat(event.getEventSourceArn()).isNull();
    assertThat(batch.kind()).isEqualTo(SourceKind.KAFKA);
    assertThat(batch.lanes()).containsExactlyInAnyOrder("kafka:orders-0", "kafka:orders-3");
    assertThat(batch.records()).extracting(r -> r.lane() + "@" + r.position())
        .containsExactlyInAnyOrder("kafka:orders-0@15", "kafka:orders-0@16", "kafka:orders-3@7");
    KafkaRecord first = (KafkaRecord) batch.records().stream().filter(r -> r.position().equals("15")).findFirst()
        .orElseThrow();
    assertThat(new String(first.key(), StandardCharsets.UTF_8)).isEqualTo("order-1");
    assertThat(first.headers()).hasSize(1);
    KafkaRecord appended = (KafkaRecord) batch.records().stream().filter(r -> r.position().equals("16"))
        .findFirst().orElseThrow();
    assertThat(appended.key()).isNull();
    assertThat(appended.timestampType()).isEqualTo(1);
  }

  @Test
  void kafkaEventOfAnotherSourceIsRefusedNamingIt() throws IOException {
    KafkaEvent event = sample("msk-event.json", KafkaEvent.class);
    event.setEventSource("aws:kinesis");

    org.assertj.core.api.Assertions.assertThatThrownBy(() -> EventDecoder.decode(event))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("'aws:kinesis'")
        .hasMessageContaining("SelfManagedKafka");
  }

  @Test
  void recordsAtOrBelowACommittedPositionAreDroppedComparedAsNumbers() {
    List<SourceRecord> records = List.of(
        new KinesisRecord("s", "shard-1", "k", "9", 0, new byte[0]),
        new KinesisRecord("s", "shard-1", "k", "10", 0, new byte[0]),
        new KinesisRecord("s", "shard-1", "k", "100", 0, new byte[0]));
    Batch batch = new Batch(SourceKind.KINESIS, records);

    Batch fresh = batch.after(java.util.Map.of("kinesis:s/shard-1", "10"));

    assertThat(fresh.records()).extracting(SourceRecord::position).containsExactly("100");
    assertThat(batch.ranges(java.util.Map.of("kinesis:s/shard-1", "8")))
        .singleElement()
        .satisfies(range -> {
          assertThat(range.previous()).isEqualTo("8");
          assertThat(range.last()).isEqualTo("100");
          assertThat(range.records()).isEqualTo(3);
        });
  }
}
