package io.spindrift.event;

import static org.assertj.core.api.Assertions.assertThat;

import com.amazonaws.services.lambda.runtime.events.KinesisEvent;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Date;
import java.util.List;
import java.util.Map;
import org.apache.spark.sql.catalyst.InternalRow;
import org.junit.jupiter.api.Test;
import software.amazon.kinesis.retrieval.kpl.Messages;

/** KPL-aggregated Kinesis records decode to one record per user record; corrupt aggregates become rejects. */
class KplAggregateTest {
  private static final String STREAM_ARN = "arn:aws:kinesis:us-east-1:123456789012:stream/orders";
  private static final String HASH_KEY = "170141183460469231731687303715884105728";

  private static KinesisEvent.KinesisEventRecord record(String sequence, String partitionKey, byte[] data) {
    KinesisEvent.Record kinesis = new KinesisEvent.Record();
    kinesis.setSequenceNumber(sequence);
    kinesis.setPartitionKey(partitionKey);
    kinesis.setData(ByteBuffer.wrap(data));
    kinesis.setApproximateArrivalTimestamp(new Date(1_700_000_000_000L));
    KinesisEvent.KinesisEventRecord record = new KinesisEvent.KinesisEventRecord();
    record.setKinesis(kinesis);
    record.setEventID("shardId-000000000001:" + sequence);
    record.setEventSourceARN(STREAM_ARN);
    return record;
  }

  private static Batch decode(KinesisEvent.KinesisEventRecord... records) {
    KinesisEvent event = new KinesisEvent();
    event.setRecords(List.of(records));
    return EventDecoder.decode(event);
  }

  private static String text(KinesisRecord record) {
    return new String(record.data(), StandardCharsets.UTF_8);
  }

  @Test
  void aggregateBecomesOneRecordPerUserRecordWithItsKeysFromTheAggregateTables() {
    byte[] aggregate = new KplAggregates()
        .add("user-1", null, "{\"n\":1}")
        .add("user-2", HASH_KEY, "{\"n\":2}")
        .add("user-1", null, "{\"n\":3}")
        .bytes();

    Batch batch = decode(record("100", "outer-key", aggregate));

    assertThat(batch.records()).hasSize(3).allMatch(r -> r instanceof KinesisRecord);
    List<KinesisRecord> users = batch.records().stream().map(KinesisRecord.class::cast).toList();
    assertThat(users).extracting(KplAggregateTest::text).containsExactly("{\"n\":1}", "{\"n\":2}", "{\"n\":3}");
    assertThat(users).extracting(KinesisRecord::partitionKey).containsExactly("user-1", "user-2", "user-1");
    assertThat(users).extracting(KinesisRecord::explicitHashKey).containsExactly(null, HASH_KEY, null);
    assertThat(users).extracting(KinesisRecord::subSequenceNumber).containsExactly(0L, 1L, 2L);
    assertThat(users).extracting(KinesisRecord::position).containsOnly("100");
    assertThat(users).extracting(KinesisRecord::recordPosition).containsExactly("100/0", "100/1", "100/2");
    assertThat(users).extracting(KinesisRecord::arrivalMs).containsOnly(1_700_000_000_000L);
    assertThat(batch.lanes()).containsExactly("kinesis:orders/shardId-000000000001");
  }

  @Test
  void userRecordRowHasTheSubSequenceNumberColumnAndNamesItselfInItsPosition() {
    Batch batch = decode(record("7", "k", new KplAggregates().add("a", null, "x").add("b", null, "y").bytes()),
        record("8", "plain-key", "plain".getBytes(StandardCharsets.UTF_8)));
    List<String> columns = Arrays.asList(SourceKind.KINESIS.schema().fieldNames());

    InternalRow second = batch.records().get(1).toRow();
    InternalRow plain = batch.records().get(2).toRow();

    assertThat(columns).containsExactly("data", "streamName", "partitionKey", "sequenceNumber",
        "approximateArrivalTimestamp", "subSequenceNumber", SourceKind.LANE_COLUMN, SourceKind.POSITION_COLUMN);
    int sub = columns.indexOf("subSequenceNumber");
    int position = columns.indexOf(SourceKind.POSITION_COLUMN);
    assertThat(second.getLong(sub)).isEqualTo(1L);
    assertThat(second.getUTF8String(columns.indexOf("partitionKey")).toString()).isEqualTo("b");
    assertThat(second.getUTF8String(position).toString()).isEqualTo("7/1");
    assertThat(plain.isNullAt(sub)).isTrue();
    assertThat(plain.getUTF8String(position).toString()).isEqualTo("8");
    assertThat(second.numFields()).isEqualTo(columns.size());
  }

  @Test
  void plainRecordsPassThroughUnchanged() {
    Batch batch = decode(record("5", "k", "{\"plain\":true}".getBytes(StandardCharsets.UTF_8)),
        record("6", "k", new byte[0]));

    assertThat(batch.records()).hasSize(2);
    KinesisRecord plain = (KinesisRecord) batch.records().get(0);
    assertThat(plain.isSubRecord()).isFalse();
    assertThat(plain.explicitHashKey()).isNull();
    assertThat(text(plain)).isEqualTo("{\"plain\":true}");
  }

  @Test
  void aggregateWithABadMd5TrailerIsUndecodableNamingLanePositionAndReason() {
    byte[] aggregate = new KplAggregates().add("a", null, "one").add("b", null, "two").bytes();
    aggregate[aggregate.length - 1] ^= 0x01;

    Batch batch = decode(record("41", "k", "before".getBytes(StandardCharsets.UTF_8)), record("42", "k", aggregate),
        record("43", "k", "after".getBytes(StandardCharsets.UTF_8)));

    assertThat(batch.records()).hasSize(3);
    assertThat(batch.records().get(1)).isInstanceOfSatisfying(UndecodableRecord.class, undecodable -> {
      assertThat(undecodable.position()).isEqualTo("42");
      assertThat(undecodable.lane()).isEqualTo("kinesis:orders/shardId-000000000001");
      assertThat(undecodable.reason()).contains("corrupt KPL aggregate", "position 42", "MD5");
      assertThat(undecodable.payload()).isEqualTo(aggregate);
    });
    assertThat(batch.records().get(0)).isInstanceOf(KinesisRecord.class);
    assertThat(batch.records().get(2)).isInstanceOf(KinesisRecord.class);
  }

  @Test
  void truncatedAggregateIsUndecodable() {
    byte[] whole = new KplAggregates().add("a", null, "one").add("b", null, "two").bytes();

    Batch cut = decode(record("50", "k", Arrays.copyOf(whole, whole.length - 5)),
        record("51", "k", Arrays.copyOf(whole, 10)));

    assertThat(cut.records()).hasSize(2).allMatch(r -> r instanceof UndecodableRecord);
    assertThat(((UndecodableRecord) cut.records().get(0)).reason()).contains("MD5");
    assertThat(((UndecodableRecord) cut.records().get(1)).reason()).contains("truncated: 10 bytes");
  }

  @Test
  void truncatedProtobufWithAMatchingTrailerIsUndecodable() {
    byte[] message = new KplAggregates().add("a", null, "a long enough user record").message();
    byte[] truncated = Arrays.copyOf(message, message.length - 4);

    Batch batch = decode(record("60", "k", KplAggregates.frame(truncated)));

    assertThat(batch.records()).singleElement().isInstanceOfSatisfying(UndecodableRecord.class,
        undecodable -> assertThat(undecodable.reason()).contains("protobuf does not parse"));
  }

  @Test
  void userRecordNamingAKeyOutsideTheTableMakesTheWholeAggregateUndecodable() {
    byte[] message = Messages.AggregatedRecord.newBuilder()
        .addPartitionKeyTable("only")
        .addRecords(Messages.Record.newBuilder().setPartitionKeyIndex(0)
            .setData(com.google.protobuf.ByteString.copyFromUtf8("ok")))
        .addRecords(Messages.Record.newBuilder().setPartitionKeyIndex(3)
            .setData(com.google.protobuf.ByteString.copyFromUtf8("lost?")))
        .build().toByteArray();

    Batch batch = decode(record("70", "k", KplAggregates.frame(message)));

    assertThat(batch.records()).singleElement().isInstanceOfSatisfying(UndecodableRecord.class,
        undecodable -> assertThat(undecodable.reason()).contains("user record 1 names partition key 3 of a table of 1"));
  }

  @Test
  void committedAggregateIsDroppedWholeAndRangesNameOuterSequenceNumbers() {
    Batch batch = decode(
        record("10", "k", new KplAggregates().add("a", null, "1").add("b", null, "2").bytes()),
        record("11", "k", new KplAggregates().add("a", null, "3").add("c", null, "4").add("d", null, "5").bytes()));
    String lane = "kinesis:orders/shardId-000000000001";

    Batch fresh = batch.after(Map.of(lane, "10"));

    assertThat(batch.size()).isEqualTo(5);
    assertThat(fresh.records()).extracting(r -> ((KinesisRecord) r).recordPosition())
        .containsExactly("11/0", "11/1", "11/2");
    assertThat(batch.ranges(Map.of())).singleElement().satisfies(range -> {
      assertThat(range.last()).isEqualTo("11");
      assertThat(range.records()).isEqualTo(5);
    });
    assertThat(batch.after(Map.of(lane, "11")).isEmpty()).isTrue();
  }

  @Test
  void expandingAgainChangesNothing() {
    Batch once = decode(record("90", "k", new KplAggregates().add("a", null, "1").add("b", null, "2").bytes()));

    Batch twice = KplAggregate.expand(once);

    assertThat(twice.records()).isEqualTo(once.records());
  }

  @Test
  void fanOutCodecKeepsSubSequenceNumbersAndHashKeys() {
    Batch batch = decode(record("12", "k", new KplAggregates().add("a", HASH_KEY, "1").add("b", null, "2").bytes()),
        record("13", "p", "plain".getBytes(StandardCharsets.UTF_8)));
    List<SourceRecord> records = batch.records();

    List<SourceRecord> back = RecordCodec.decode(RecordCodec.encode(records));

    assertThat(back).hasSize(3);
    for (int i = 0; i < 3; i++) {
      KinesisRecord before = (KinesisRecord) records.get(i);
      KinesisRecord after = (KinesisRecord) back.get(i);
      assertThat(after.recordPosition()).isEqualTo(before.recordPosition());
      assertThat(after.explicitHashKey()).isEqualTo(before.explicitHashKey());
      assertThat(after.partitionKey()).isEqualTo(before.partitionKey());
      assertThat(after.data()).isEqualTo(before.data());
    }
  }
}
