package io.spindrift.runtime;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * What must survive of Spark's checkpoint between invocations of a stateful job (DESIGN §6): the last batch id,
 * its offset-log metadata (batch watermark, timestamp and the SQL conf map, copied verbatim) and the previous
 * batch's, and its commit-log metadata (the next batch's watermark). A fresh, local checkpoint directory is seeded
 * from it before the query starts, so event-time watermarks advance across invocations and containers as they
 * would in one long query. Kept as one JSON string on the commit log's head.
 */
record QueryCheckpoint(long batchId, String offsetMeta, String previousOffsetMeta, String commitMeta, int sources) {
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
    return node.toString();
  }

  static QueryCheckpoint fromJson(String json) {
    try {
      var node = JSON.readTree(json);
      return new QueryCheckpoint(node.get("batchId").asLong(), node.get("offsetMeta").asText(),
          node.path("previousOffsetMeta").isNull() ? null : node.path("previousOffsetMeta").asText(null),
          node.get("commitMeta").asText(), node.path("sources").asInt(1));
    } catch (IOException e) {
      throw new UncheckedIOException("Unreadable query checkpoint on the commit log: " + json, e);
    }
  }

  /** Writes metadata, offsets/B-1, offsets/B and commits/B into an empty checkpoint directory. */
  void seed(Path dir, String queryId) {
    try {
      Files.createDirectories(dir.resolve("offsets"));
      Files.createDirectories(dir.resolve("commits"));
      Files.writeString(dir.resolve("metadata"), "{\"id\":\"" + queryId + "\"}");
      if (batchId > 0 && previousOffsetMeta != null) {
        Files.writeString(dir.resolve("offsets/" + (batchId - 1)), "v1\n" + previousOffsetMeta + sourceOffsets());
      }
      Files.writeString(dir.resolve("offsets/" + batchId), "v1\n" + offsetMeta + sourceOffsets());
      Files.writeString(dir.resolve("commits/" + batchId), "v1\n" + commitMeta);
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot seed the checkpoint in " + dir, e);
    }
  }

  /** One line per source of the query (a job may read the input stream more than once, e.g. a self-join). */
  private String sourceOffsets() {
    return ("\n" + FEED_START).repeat(Math.max(1, sources));
  }

  /** Reads what a finished query left in its checkpoint: its newest committed batch. */
  static QueryCheckpoint read(Path dir) {
    try {
      long batch;
      try (var names = Files.list(dir.resolve("commits"))) {
        batch = names.map(p -> p.getFileName().toString()).filter(n -> n.matches("\\d+"))
            .mapToLong(Long::parseLong).max().orElseThrow(() -> new IllegalStateException("No committed batch in " + dir));
      }
      Path offsetsFile = dir.resolve("offsets/" + batch);
      String offsets = metaLine(offsetsFile);
      int sources = Files.readAllLines(offsetsFile, StandardCharsets.UTF_8).size() - 2;
      Path previous = dir.resolve("offsets/" + (batch - 1));
      String previousMeta = batch > 0 && Files.exists(previous) ? metaLine(previous) : null;
      return new QueryCheckpoint(batch, offsets, previousMeta, metaLine(dir.resolve("commits/" + batch)), sources);
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot read the checkpoint in " + dir, e);
    }
  }

  private static String metaLine(Path file) throws IOException {
    List<String> lines = Files.readAllLines(file, StandardCharsets.UTF_8);
    if (lines.size() < 2 || !lines.get(0).equals("v1")) {
      throw new IllegalStateException("Unexpected Spark checkpoint file " + file + ": " + lines);
    }
    return lines.get(1);
  }
}
