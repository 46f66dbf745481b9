package io.spindrift.fanout;

import io.spindrift.event.KinesisRecord;
import io.spindrift.event.KplAggregate;
import io.spindrift.event.SourceRecord;
import java.util.ArrayList;
import java.util.List;
import software.amazon.awssdk.services.kinesis.KinesisClient;
import software.amazon.awssdk.services.kinesis.model.GetRecordsResponse;
import software.amazon.awssdk.services.kinesis.model.Record;
import software.amazon.awssdk.services.kinesis.model.ShardIteratorType;

/**
 * A Kinesis shard read after a sequence number ({@code GetShardIterator AFTER_SEQUENCE_NUMBER}, then {@code
 * GetRecords}). The shard is far behind when the first {@code GetRecords} reports at least {@code minBehindMs} of
 * {@code MillisBehindLatest}. Records become {@link KinesisRecord}s as {@code EventDecoder} makes them from
 * Lambda's event (arrival time in milliseconds, KPL aggregates expanded by {@link KplAggregate}); whole stored
 * records only, so an aggregate is never split.
 */
final class KinesisTail implements LaneTail {
  private static final int MAX_GET_RECORDS = 10_000;
  /** GetRecords may answer empty pages while a shard is behind; this many in a row end the read. */
  private static final int MAX_EMPTY_PAGES = 3;

  private final KinesisClient kinesis;
  private final long minBehindMs;

  KinesisTail(KinesisClient kinesis, long minBehindMs) {
    this.kinesis = kinesis;
    this.minBehindMs = minBehindMs;
  }

  @Override
  public Tail read(String lane, String position, long maxRecords, long maxBytes) {
    String streamShard = lane.substring("kinesis:".length());
    String stream = streamShard.substring(0, streamShard.lastIndexOf('/'));
    String shard = streamShard.substring(streamShard.lastIndexOf('/') + 1);
    String iterator = kinesis.getShardIterator(b -> b.streamName(stream).shardId(shard)
        .shardIteratorType(ShardIteratorType.AFTER_SEQUENCE_NUMBER).startingSequenceNumber(position))
        .shardIterator();
    List<SourceRecord> out = new ArrayList<>();
    long stored = 0;
    long bytes = 0;
    Long behindMs = null;
    int emptyPages = 0;
    while (iterator != null && stored < maxRecords) {
      String current = iterator;
      int limit = (int) Math.min(MAX_GET_RECORDS, maxRecords - stored);
      GetRecordsResponse page = kinesis.getRecords(b -> b.shardIterator(current).limit(limit));
      long pageBehind = page.millisBehindLatest() == null ? 0 : page.millisBehindLatest();
      if (behindMs == null) {
        behindMs = pageBehind;
        if (pageBehind < minBehindMs) {
          return Tail.none(lane + " is " + pageBehind + " ms behind its tip < SPINDRIFT_READ_AHEAD_MIN_BEHIND_MS="
              + minBehindMs);
        }
      }
      for (Record record : page.records()) {
        byte[] data = record.data().asByteArray();
        if (bytes + data.length > maxBytes) {
          return new Tail(out, stored, bytes, reason(lane, behindMs, "SPINDRIFT_READ_AHEAD_MAX_BYTES"));
        }
        long arrivalMs = record.approximateArrivalTimestamp() == null ? 0
            : record.approximateArrivalTimestamp().toEpochMilli();
        out.addAll(KplAggregate.expand(new KinesisRecord(stream, shard, record.partitionKey(),
            record.sequenceNumber(), arrivalMs, data)));
        stored++;
        bytes += data.length;
      }
      iterator = page.nextShardIterator();
      if (page.records().isEmpty() && (pageBehind == 0 || ++emptyPages >= MAX_EMPTY_PAGES)) {
        break;
      } else if (!page.records().isEmpty()) {
        emptyPages = 0;
      }
    }
    return new Tail(out, stored, bytes, reason(lane, behindMs, stored >= maxRecords
        ? "SPINDRIFT_READ_AHEAD_MAX_RECORDS" : iterator == null ? "the shard's end" : "its tip"));
  }

  private static String reason(String lane, long behindMs, String until) {
    return lane + " was " + behindMs + " ms behind its tip: read ahead up to " + until;
  }

  @Override
  public void close() {
    kinesis.close();
  }
}
