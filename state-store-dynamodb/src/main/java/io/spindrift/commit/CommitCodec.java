package io.spindrift.commit;

import static io.spindrift.commit.CommitLog.n;
import static io.spindrift.commit.CommitLog.s;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import software.amazon.awssdk.services.dynamodb.model.AttributeValue;

/** Maps a {@link CommitRecord} to and from its DynamoDB item. */
final class CommitCodec {
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
    Map<String, AttributeValue> stages = new HashMap<>();
    commit.stages().forEach((name, ref) -> stages.put(name, s(ref)));
    item.put("stages", AttributeValue.builder().m(stages).build());
    Map<String, AttributeValue> counts = new HashMap<>();
    commit.counts().forEach((name, count) -> counts.put(name, n(count)));
    item.put("counts", AttributeValue.builder().m(counts).build());
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
    Map<String, String> stages = new HashMap<>();
    item.get("stages").m().forEach((name, ref) -> stages.put(name, ref.s()));
    Map<String, Long> counts = new HashMap<>();
    item.get("counts").m().forEach((name, count) -> counts.put(name, Long.parseLong(count.n())));
    return new CommitRecord(Long.parseLong(item.get("seq").n()), item.get("txnId").s(), lanes, stages, counts,
        Long.parseLong(item.get("committedAt").n()));
  }
}
