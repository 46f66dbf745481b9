package io.spindrift.commit;

import static io.spindrift.commit.DynamoDbCommitLog.n;
import static io.spindrift.commit.DynamoDbCommitLog.s;

import io.spindrift.state.StateBucket;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import software.amazon.awssdk.services.dynamodb.model.AttributeValue;

/** Maps a {@link CommitRecord} to and from its DynamoDB item. */
final class CommitCodec {
  // the item's attribute names: the layout every app's commit log already holds
  private static final String TABLE_STAGE = "table";
  private static final String REJECTS_STAGE = "rejects";
  private static final String STATE_STAGE = "state";
  private static final String STATE_OBJECT_STAGE = "state-object";
  private static final String STATE_BUCKETS = "state-buckets";
  private static final String RECORDS = "records";
  private static final String DUPLICATES = "duplicates";
  private static final String OUTPUT = "output";
  private static final String REJECTED = "rejected";

  private CommitCodec() {}

  static Map<String, AttributeValue> encode(String pk, String sk, CommitRecord commit) {
    Map<String, AttributeValue> item = new HashMap<>();
    item.put("pk", s(pk));
    item.put("sk", s(sk));
    item.put("seq", n(commit.seq()));
    item.put("txnId", s(commit.txnId()));
    item.put("committedAt", n(commit.committedAtMs()));
    List<AttributeValue> lanes = new ArrayList<>();
    for (LaneRange range : commit.lanes()) {
      Map<String, AttributeValue> lane = new HashMap<>();
      lane.put("lane", s(range.lane()));
      if (range.previous() != null) {
        lane.put("previous", s(range.previous()));
      }
      lane.put("last", s(range.last()));
      lane.put("records", n(range.records()));
      lanes.add(AttributeValue.builder().m(lane).build());
    }
    item.put("lanes", AttributeValue.builder().l(lanes).build());
    item.put("stages", AttributeValue.builder().m(encodeStages(commit.stages())).build());
    CommitCounts counts = commit.counts();
    item.put("counts", AttributeValue.builder().m(Map.of(RECORDS, n(counts.records()), DUPLICATES,
        n(counts.duplicates()), OUTPUT, n(counts.output()), REJECTED, n(counts.rejected()))).build());
    return item;
  }

  static CommitRecord decode(Map<String, AttributeValue> item) {
    List<LaneRange> lanes = new ArrayList<>();
    for (AttributeValue value : item.get("lanes").l()) {
      Map<String, AttributeValue> lane = value.m();
      AttributeValue previous = lane.get("previous");
      lanes.add(new LaneRange(lane.get("lane").s(), previous == null ? null : previous.s(),
          lane.get("last").s(), Long.parseLong(lane.get("records").n())));
    }
    Map<String, AttributeValue> counts = item.get("counts").m();
    return new CommitRecord(Long.parseLong(item.get("seq").n()), item.get("txnId").s(), lanes,
        decodeStages(item.get("stages").m()), new CommitCounts(count(counts, RECORDS), count(counts, DUPLICATES),
        count(counts, OUTPUT), count(counts, REJECTED)), Long.parseLong(item.get("committedAt").n()));
  }

  private static Map<String, AttributeValue> encodeStages(CommitStages stages) {
    Map<String, AttributeValue> out = new HashMap<>();
    putIfSet(out, TABLE_STAGE, stages.table());
    putIfSet(out, REJECTS_STAGE, stages.rejects());
    putIfSet(out, STATE_STAGE, stages.stateDelta());
    putIfSet(out, STATE_OBJECT_STAGE, stages.stateObject());
    if (!stages.stateBuckets().isEmpty()) {
      out.put(STATE_BUCKETS, s(stages.stateBuckets().stream().map(StateBucket::id).sorted()
          .collect(Collectors.joining(","))));
    }
    return out;
  }

  private static CommitStages decodeStages(Map<String, AttributeValue> stages) {
    List<StateBucket> buckets = new ArrayList<>();
    String ids = text(stages, STATE_BUCKETS);
    if (ids != null && !ids.isEmpty()) {
      for (String id : ids.split(",")) {
        buckets.add(StateBucket.parse(id));
      }
    }
    return new CommitStages(text(stages, TABLE_STAGE), text(stages, REJECTS_STAGE), text(stages, STATE_STAGE),
        text(stages, STATE_OBJECT_STAGE), buckets);
  }

  private static void putIfSet(Map<String, AttributeValue> item, String name, String value) {
    if (value != null) {
      item.put(name, s(value));
    }
  }

  private static String text(Map<String, AttributeValue> item, String name) {
    AttributeValue value = item.get(name);
    return value == null ? null : value.s();
  }

  private static long count(Map<String, AttributeValue> counts, String name) {
    AttributeValue value = counts.get(name);
    return value == null ? 0 : Long.parseLong(value.n());
  }
}
