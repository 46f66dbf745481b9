package io.spindrift.runtime;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * What must survive of Spark's checkpoint between invocations of a stateful job (DESIGN §6): the last batch id,
 * its offset-log metadata (batch watermark, timestamp and the SQL conf map, copied verbatim) and the previous
 * batch's, and its commit-log metadata (the next batch's watermark). A fresh checkpoint (in memory) is seeded
 * from it before a query starts, so event-time watermarks advance across invocations and containers as they
 * would in one long query. Kept as one JSON string on the commit log's head, with the lanes' event-time progress
 * ({@link LaneWatermarks}) that decides the next batch's watermark.
 */
record QueryCheckpoint(long batchId, String offsetMeta, String previousOffsetMeta, String commitMeta, int sources,
    LaneWatermarks lanes) {
  private static final ObjectMapper JSON = new ObjectMapper();
  /** The source offset the seeded batches end at: a fresh invocation feed starts at 0. */
  private static final String FEED_START = "0";

  String toJson() {
    ObjectNode node = JSON.createObjectNode();
    node.put("batchId", batchId);
    node.put("offsetMeta", offsetMeta);
    node.put("previousOffsetMeta", previousOffsetMeta);
    node.put("commitMeta", commitMeta);
    node.put("sources", sources);
    if (!lanes.lanes().isEmpty()) {
      node.set("lanes", lanes.toJson());
    }
    return node.toString();
  }

  static QueryCheckpoint fromJson(String json) {
    try {
      var node = JSON.readTree(json);
      return new QueryCheckpoint(node.get("batchId").asLong(), node.get("offsetMeta").asText(),
          node.path("previousOffsetMeta").isNull() ? null : node.path("previousOffsetMeta").asText(null),
          node.get("commitMeta").asText(), node.path("sources").asInt(1), LaneWatermarks.fromJson(node.get("lanes")));
    } catch (IOException e) {
      throw new UncheckedIOException("Unreadable query checkpoint on the commit log: " + json, e);
    }
  }

  /**
   * Writes metadata, offsets/B-1, offsets/B and commits/B of an empty checkpoint at {@code dir}, in memory: the
   * query that starts on it uses {@link InMemoryCheckpointFileManager}.
   */
  void seed(Path dir, String queryId) {
    InMemoryCheckpointFileManager.write(dir, "metadata", "{\"id\":\"" + queryId + "\"}");
    if (batchId > 0 && previousOffsetMeta != null) {
      InMemoryCheckpointFileManager.write(dir, "offsets/" + (batchId - 1), "v1\n" + previousOffsetMeta + sourceOffsets());
    }
    InMemoryCheckpointFileManager.write(dir, "offsets/" + batchId, "v1\n" + offsetMeta + sourceOffsets());
    InMemoryCheckpointFileManager.write(dir, "commits/" + batchId, "v1\n" + commitMeta);
  }

  /** One line per source of the query (a job may read the input stream more than once, e.g. a self-join). */
  private String sourceOffsets() {
    return ("\n" + FEED_START).repeat(Math.max(1, sources));
  }

  /** Reads batch {@code batch} of the (in-memory) checkpoint at {@code dir}, once its commit-log entry exists. */
  static QueryCheckpoint read(Path dir, long batch) {
    String offsets = InMemoryCheckpointFileManager.read(dir, "offsets/" + batch);
    String commit = InMemoryCheckpointFileManager.read(dir, "commits/" + batch);
    if (offsets == null || commit == null) {
      throw new IllegalStateException("Batch " + batch + " is not committed in the checkpoint at " + dir);
    }
    String previous = batch > 0 ? InMemoryCheckpointFileManager.read(dir, "offsets/" + (batch - 1)) : null;
    int sources = (int) offsets.lines().count() - 2;
    return new QueryCheckpoint(batch, metaLine(dir, offsets), previous == null ? null : metaLine(dir, previous),
        metaLine(dir, commit), sources, LaneWatermarks.none());
  }

  /** The event-time watermark batch {@link #batchId} ran with (state eviction), in milliseconds. */
  long batchWatermarkMs() {
    return field(offsetMeta, "batchWatermarkMs");
  }

  /** The watermark Spark chose for the batch after {@link #batchId}. */
  long nextBatchWatermarkMs() {
    return field(commitMeta, "nextBatchWatermarkMs");
  }

  /** The watermark the batch before {@link #batchId} ran with: Spark drops rows at or before it as late. */
  long lateEventsWatermarkMs() {
    return previousOffsetMeta == null ? 0 : field(previousOffsetMeta, "batchWatermarkMs");
  }

  /** This checkpoint with the next batch's watermark set to {@code watermarkMs} and the lanes' progress. */
  QueryCheckpoint withNextWatermark(long watermarkMs, LaneWatermarks progress) {
    try {
      ObjectNode commit = (ObjectNode) JSON.readTree(commitMeta);
      commit.put("nextBatchWatermarkMs", watermarkMs);
      return new QueryCheckpoint(batchId, offsetMeta, previousOffsetMeta, commit.toString(), sources, progress);
    } catch (IOException e) {
      throw new UncheckedIOException("Unreadable commit metadata in the query checkpoint: " + commitMeta, e);
    }
  }

  /**
   * Two checkpoints of one app combined, as the head keeps them when batches of different lanes commit side by side
   * (bucket commits): the later batch's (higher batch id, then higher watermarks) with the next batch's watermark
   * the higher of the two, and every lane's progress, the newest of each, lanes idle beyond {@code idleLaneMs}'s
   * horizon forgotten as {@link LaneWatermarks#advance} forgets them. The result never has a lower watermark than
   * either; merging a checkpoint with the one it was derived from gives it back.
   */
  static QueryCheckpoint merge(QueryCheckpoint a, QueryCheckpoint b, long idleLaneMs) {
    QueryCheckpoint later = order(a, b) >= 0 ? a : b;
    long next = Math.max(a.nextBatchWatermarkMs(), b.nextBatchWatermarkMs());
    LaneWatermarks merged = a.lanes().merge(b.lanes());
    long newest = merged.lanes().values().stream().mapToLong(LaneWatermarks.Lane::seenAtMs).max().orElse(0);
    LaneWatermarks kept = merged.advance(Map.of(), newest, idleLaneMs);
    return later.nextBatchWatermarkMs() == next && later.lanes().equals(kept) ? later
        : later.withNextWatermark(next, kept);
  }

  /** {@link #merge} over the JSON form the commit log keeps. */
  static String merge(String a, String b, long idleLaneMs) {
    return merge(fromJson(a), fromJson(b), idleLaneMs).toJson();
  }

  private static int order(QueryCheckpoint a, QueryCheckpoint b) {
    int byBatch = Long.compare(a.batchId(), b.batchId());
    if (byBatch != 0) {
      return byBatch;
    }
    int byWatermark = Long.compare(a.batchWatermarkMs(), b.batchWatermarkMs());
    return byWatermark != 0 ? byWatermark : Long.compare(a.nextBatchWatermarkMs(), b.nextBatchWatermarkMs());
  }

  private static long field(String json, String name) {
    try {
      return JSON.readTree(json).path(name).asLong(0);
    } catch (IOException e) {
      throw new UncheckedIOException("Unreadable checkpoint metadata: " + json, e);
    }
  }

  /** Whether the checkpoint at {@code dir} holds the commit-log entry of {@code batch}. */
  static boolean committed(Path dir, long batch) {
    return InMemoryCheckpointFileManager.read(dir, "commits/" + batch) != null;
  }

  private static String metaLine(Path dir, String file) {
    List<String> lines = file.lines().toList();
    if (lines.size() < 2 || !lines.get(0).equals("v1")) {
      throw new IllegalStateException("Unexpected Spark checkpoint file in " + dir + ": " + file);
    }
    return lines.get(1);
  }
}
