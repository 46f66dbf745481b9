package io.spindrift.sink;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;

/**
 * A durable reference to output written but not yet visible in its table. {@code ref} is what the commit log
 * stores; it is enough, in any container, to publish the output. An empty stage has no rows and a null ref.
 *
 * <p>A batch that fanned out to child executors stages one part per child: {@link #combine} makes them one stage
 * (a composite ref, {@code {"parts":[ref, ...]}}) that the parent commits once, and every sink publishes all of a
 * composite's parts in the one table commit of its seq ({@link #parts} lists them). Each part is staged by the
 * same sink with its own stage id (so no two parts share a file name). For an upsert sink, parts are in commit
 * order: a key changed in several parts (updated or deleted) ends as its latest part's change says, on every
 * format, as across seqs.
 */
public record StagedOutput(String ref, long rows) {
  public static final StagedOutput EMPTY = new StagedOutput(null, 0);
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final String PARTS = "parts";

  public boolean isEmpty() {
    return ref == null;
  }

  /**
   * One stage of several parts (in order), skipping empty ones: {@link #EMPTY} if all are empty, the part itself if
   * only one is not.
   */
  public static StagedOutput combine(List<StagedOutput> parts) {
    List<StagedOutput> kept = parts.stream().filter(p -> !p.isEmpty()).toList();
    if (kept.isEmpty()) {
      return EMPTY;
    }
    if (kept.size() == 1) {
      return kept.get(0);
    }
    ObjectNode doc = JSON.createObjectNode();
    ArrayNode refs = doc.putArray(PARTS);
    long rows = 0;
    for (StagedOutput part : kept) {
      for (String ref : parts(part.ref())) {
        refs.add(ref);
      }
      rows += part.rows();
    }
    return new StagedOutput(doc.toString(), rows);
  }

  /** The refs a stage ref stands for: a composite's parts, or the ref itself (none for a null ref). */
  public static List<String> parts(String ref) {
    if (ref == null) {
      return List.of();
    }
    if (!isComposite(ref)) {
      return List.of(ref);
    }
    try {
      JsonNode doc = JSON.readTree(ref);
      List<String> out = new ArrayList<>();
      doc.get(PARTS).forEach(node -> out.add(node.asText()));
      return out;
    } catch (IOException e) {
      throw new UncheckedIOException("Unreadable composite stage " + ref, e);
    }
  }

  /** True for a ref made by {@link #combine} of two or more parts. */
  public static boolean isComposite(String ref) {
    return ref != null && ref.startsWith("{\"" + PARTS + "\":");
  }
}
