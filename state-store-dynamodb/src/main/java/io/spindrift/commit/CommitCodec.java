package io.spindrift.commit;

import static io.spindrift.commit.DynamoDbCommitLog.n;
import static io.spindrift.commit.DynamoDbCommitLog.s;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.spindrift.state.StateBucket;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Function;
import java.util.stream.Collectors;
import software.amazon.awssdk.services.dynamodb.model.AttributeValue;

/**
 * Maps a {@link CommitRecord} to and from its DynamoDB item. The stages are a map attribute {@code stages}, or, when
 * spilled ({@link CommitSpill}), a JSON object of the same names whose reference is the attribute {@code
 * stagesObject}; an item never has both. A reader that predates spilling fails on a spilled item (no {@code
 * stages}) rather than taking it for a commit without output.
 */
final class CommitCodec {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final String STAGES = "stages";
  private static final String STAGES_OBJECT = "stagesObject";
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
  // bucket commits only (absent from every other item, so logs written before them read as they did)
  private static final String BUCKETS = "buckets";
  private static final String CHECKPOINT = "checkpoint";

  private CommitCodec() {}

  /**
   * Returns the item of {@code commit}, its stages inline when {@code stagesObject} is null, else only that
   * reference to where {@link #stagesJson} of them was written.
   */
  static Map<String, AttributeValue> encode(String pk, String sk, CommitRecord commit, String stagesObject) {
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
    if (stagesObject == null) {
      item.put(STAGES, AttributeValue.builder().m(encodeStages(commit.stages())).build());
    } else {
      item.put(STAGES_OBJECT, s(stagesObject));
    }
    if (!commit.buckets().isEmpty()) {
      item.put(BUCKETS, s(commit.buckets().stream().map(BucketVersion::toString).collect(Collectors.joining(","))));
    }
    if (commit.checkpoint() != null) {
      item.put(CHECKPOINT, s(commit.checkpoint()));
    }
    CommitCounts counts = commit.counts();
    item.put("counts", AttributeValue.builder().m(Map.of(RECORDS, n(counts.records()), DUPLICATES,
        n(counts.duplicates()), OUTPUT, n(counts.output()), REJECTED, n(counts.rejected()))).build());
    return item;
  }

  /** Returns the commit {@code item} holds, reading spilled stages through {@code spilled} (reference → bytes). */
  static CommitRecord decode(Map<String, AttributeValue> item, Function<String, byte[]> spilled) {
    List<LaneRange> lanes = new ArrayList<>();
    for (AttributeValue value : item.get("lanes").l()) {
      Map<String, AttributeValue> lane = value.m();
      AttributeValue previous = lane.get("previous");
      lanes.add(new LaneRange(lane.get("lane").s(), previous == null ? null : previous.s(),
          lane.get("last").s(), Long.parseLong(lane.get("records").n())));
    }
    Map<String, AttributeValue> counts = item.get("counts").m();
    List<BucketVersion> buckets = new ArrayList<>();
    String versions = text(item, BUCKETS);
    if (versions != null && !versions.isEmpty()) {
      for (String version : versions.split(",")) {
        buckets.add(BucketVersion.parse(version));
      }
    }
    return new CommitRecord(Long.parseLong(item.get("seq").n()), item.get("txnId").s(), lanes,
        decodeStages(item, spilled), new CommitCounts(count(counts, RECORDS), count(counts, DUPLICATES),
        count(counts, OUTPUT), count(counts, REJECTED)), Long.parseLong(item.get("committedAt").n()), buckets,
        text(item, CHECKPOINT));
  }

  /** Bytes (UTF-8) the stages take inline in an item: attribute names and values, as DynamoDB counts item size. */
  static long inlineSize(CommitStages stages) {
    long size = STAGES.length();
    for (Map.Entry<String, AttributeValue> stage : encodeStages(stages).entrySet()) {
      size += stage.getKey().length() + stage.getValue().s().getBytes(StandardCharsets.UTF_8).length;
    }
    return size;
  }

  /** The stages as one JSON object with the item's attribute names (the spilled form). */
  static byte[] stagesJson(CommitStages stages) {
    Map<String, String> out = new TreeMap<>();
    encodeStages(stages).forEach((name, value) -> out.put(name, value.s()));
    try {
      return JSON.writeValueAsBytes(out);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("Commit stages cannot be written as JSON", e);
    }
  }

  private static CommitStages decodeStages(Map<String, AttributeValue> item,
      Function<String, byte[]> spilled) {
    AttributeValue inline = item.get(STAGES);
    if (inline != null) {
      return decodeStages(inline.m());
    }
    String ref = item.get(STAGES_OBJECT).s();
    Map<String, String> json;
    try {
      json = JSON.readValue(spilled.apply(ref), new TypeReference<Map<String, String>>() {});
    } catch (IOException e) {
      throw new UncheckedIOException("Commit stages " + ref + " are not a stages document", e);
    }
    Map<String, AttributeValue> stages = new HashMap<>();
    json.forEach((name, value) -> stages.put(name, s(value)));
    return decodeStages(stages);
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
