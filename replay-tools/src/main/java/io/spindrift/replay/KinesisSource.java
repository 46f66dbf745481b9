package io.spindrift.replay;

import io.spindrift.event.KinesisRecord;
import io.spindrift.event.SourceKind;
import io.spindrift.event.SourceRecord;
import java.math.BigInteger;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import software.amazon.awssdk.services.kinesis.KinesisClient;
import software.amazon.awssdk.services.kinesis.model.GetRecordsResponse;
import software.amazon.awssdk.services.kinesis.model.GetShardIteratorRequest;
import software.amazon.awssdk.services.kinesis.model.ListShardsResponse;
import software.amazon.awssdk.services.kinesis.model.Record;
import software.amazon.awssdk.services.kinesis.model.ResourceNotFoundException;
import software.amazon.awssdk.services.kinesis.model.Shard;
import software.amazon.awssdk.services.kinesis.model.ShardIteratorType;

/**
 * A Kinesis stream (AWS SDK v2). Shards come from {@code ListShards}; a shard's parents ({@code parentShardId},
 * {@code adjacentParentShardId}) are replayed before it, as Lambda's mapping does after a split or merge. A shard is
 * read from {@code TRIM_HORIZON}, {@code AT_TIMESTAMP} or {@code AT_SEQUENCE_NUMBER} (resuming: {@code
 * AFTER_SEQUENCE_NUMBER}) until a record at or after the end time, past the end sequence number, the end of a
 * closed shard, or the tip of an open one (no records and {@code MillisBehindLatest} 0).
 */
final class KinesisSource implements ReplaySource {
  private static final int MAX_GET_RECORDS = 10_000;
  private final KinesisClient kinesis;
  private final String stream;
  private final Map<String, Shard> shards = new LinkedHashMap<>();

  private KinesisSource(KinesisClient kinesis, String stream) {
    this.kinesis = kinesis;
    this.stream = stream;
  }

  /**
   * The stream {@code stream}.
   *
   * @throws IllegalArgumentException naming the stream when there is no such stream
   */
  static KinesisSource open(KinesisClient kinesis, String stream) {
    KinesisSource source = new KinesisSource(kinesis, stream);
    try {
      source.listShards();
    } catch (ResourceNotFoundException e) {
      throw new IllegalArgumentException("no Kinesis stream named '" + stream + "'", e);
    }
    return source;
  }

  private void listShards() {
    shards.clear();
    String token = null;
    do {
      String page = token;
      ListShardsResponse response = page == null
          ? kinesis.listShards(b -> b.streamName(stream))
          : kinesis.listShards(b -> b.nextToken(page));
      response.shards().forEach(shard -> shards.put(shard.shardId(), shard));
      token = response.nextToken();
    } while (token != null);
  }

  @Override
  public SourceKind kind() {
    return SourceKind.KINESIS;
  }

  @Override
  public String name() {
    return stream;
  }

  /** Shards in an order where parents come first (a parent expired by retention is no longer listed: skipped). */
  @Override
  public List<LanePlan> plan(RangeSpec range) {
    listShards();
    List<LanePlan> plans = new ArrayList<>();
    Set<String> placed = new HashSet<>();
    Deque<Shard> pending = new ArrayDeque<>(shards.values());
    while (!pending.isEmpty()) {
      Shard shard = pending.poll();
      List<String> parents = parents(shard);
      if (placed.containsAll(parents)) {
        placed.add(shard.shardId());
        plans.add(new LanePlan(KinesisRecord.lane(stream, shard.shardId()), shard.shardId(),
            parents.stream().map(p -> KinesisRecord.lane(stream, p)).toList(), -1));
      } else {
        pending.add(shard);
      }
    }
    return plans;
  }

  private List<String> parents(Shard shard) {
    List<String> parents = new ArrayList<>();
    for (String parent : new String[] {shard.parentShardId(), shard.adjacentParentShardId()}) {
      if (parent != null && shards.containsKey(parent)) {
        parents.add(parent);
      }
    }
    return parents;
  }

  @Override
  public LaneReader open(LanePlan lane, RangeSpec range, String resumeAfter) {
    GetShardIteratorRequest.Builder request = GetShardIteratorRequest.builder()
        .streamName(stream).shardId(lane.sourceId());
    String startSequence = range.startPositions().get(lane.sourceId());
    if (resumeAfter != null) {
      request.shardIteratorType(ShardIteratorType.AFTER_SEQUENCE_NUMBER).startingSequenceNumber(resumeAfter);
    } else if (startSequence != null) {
      request.shardIteratorType(ShardIteratorType.AT_SEQUENCE_NUMBER).startingSequenceNumber(startSequence);
    } else if (range.startTime() != null) {
      request.shardIteratorType(ShardIteratorType.AT_TIMESTAMP).timestamp(range.startTime());
    } else {
      request.shardIteratorType(ShardIteratorType.TRIM_HORIZON);
    }
    String iterator = kinesis.getShardIterator(request.build()).shardIterator();
    String endSequence = range.endPositions().get(lane.sourceId());
    return new ShardReader(lane.sourceId(), iterator, endSequence == null ? null : new BigInteger(endSequence),
        range.endTime() == null ? Long.MAX_VALUE : range.endTime().toEpochMilli());
  }

  @Override
  public Map<String, Lag> lag(Map<String, String> positions) {
    listShards();
    Map<String, Lag> out = new LinkedHashMap<>();
    for (Shard shard : shards.values()) {
      String lane = KinesisRecord.lane(stream, shard.shardId());
      String committed = positions.get(lane);
      String ending = shard.sequenceNumberRange().endingSequenceNumber();
      GetShardIteratorRequest.Builder request = GetShardIteratorRequest.builder().streamName(stream)
          .shardId(shard.shardId());
      if (committed == null) {
        request.shardIteratorType(ShardIteratorType.TRIM_HORIZON);
      } else {
        request.shardIteratorType(ShardIteratorType.AFTER_SEQUENCE_NUMBER).startingSequenceNumber(committed);
      }
      GetRecordsResponse next = kinesis.getRecords(b -> b.shardIterator(
          kinesis.getShardIterator(request.build()).shardIterator()).limit(MAX_GET_RECORDS));
      long behind = next.records().isEmpty() ? 0 : next.millisBehindLatest() == null ? 0 : next.millisBehindLatest();
      if (!next.records().isEmpty()) {
        // MillisBehindLatest measures from the last record returned: add what the page itself spans
        behind += next.records().get(next.records().size() - 1).approximateArrivalTimestamp().toEpochMilli()
            - next.records().get(0).approximateArrivalTimestamp().toEpochMilli();
      }
      Long countable = next.records().size() < MAX_GET_RECORDS && (next.millisBehindLatest() == null
          || next.millisBehindLatest() == 0) ? (long) next.records().size() : null;
      out.put(lane, new Lag(ending, countable, behind, ending != null));
    }
    return out;
  }

  @Override
  public void close() {
    kinesis.close();
  }

  /** One shard's records up to the range's end. */
  private final class ShardReader implements LaneReader {
    private final String shardId;
    private final BigInteger endSequence;
    private final long endMs;
    private final List<SourceRecord> buffer = new ArrayList<>();
    private String iterator;
    private boolean ended;

    ShardReader(String shardId, String iterator, BigInteger endSequence, long endMs) {
      this.shardId = shardId;
      this.iterator = iterator;
      this.endSequence = endSequence;
      this.endMs = endMs;
    }

    @Override
    public List<SourceRecord> next(int max) {
      while (buffer.size() < max && !ended) {
        GetRecordsResponse page = kinesis.getRecords(b -> b.shardIterator(iterator).limit(MAX_GET_RECORDS));
        for (Record record : page.records()) {
          if (pastEnd(record)) {
            ended = true;
            break;
          }
          buffer.add(new KinesisRecord(stream, shardId, record.partitionKey(), record.sequenceNumber(),
              record.approximateArrivalTimestamp().toEpochMilli(), record.data().asByteArray()));
        }
        iterator = page.nextShardIterator();
        boolean atTip = page.records().isEmpty() && (page.millisBehindLatest() == null
            || page.millisBehindLatest() == 0);
        ended |= iterator == null || atTip;
      }
      List<SourceRecord> out = new ArrayList<>(buffer.subList(0, Math.min(max, buffer.size())));
      buffer.subList(0, out.size()).clear();
      return out;
    }

    private boolean pastEnd(Record record) {
      return record.approximateArrivalTimestamp().toEpochMilli() >= endMs
          || endSequence != null && new BigInteger(record.sequenceNumber()).compareTo(endSequence) > 0;
    }

    @Override
    public boolean finished() {
      return ended && buffer.isEmpty();
    }

    @Override
    public void close() {}
  }
}
