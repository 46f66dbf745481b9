package io.spindrift.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.spindrift.examples.ClickstreamGenerator;
import java.io.IOException;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The physical floor: what the same work costs in plain Java, with no Spark, no I/O and no guarantees. Each
 * payload is parsed with Jackson into the job's fields (required event_id, user_id and ts; action lower-cased;
 * ts to an instant and a UTC date), and rows are counted by page in a HashMap.
 */
final class PhysicalFloor implements WarmSystem {
  static final String NAME = "floor";
  private static final ObjectMapper JSON = new ObjectMapper();

  /** One parsed event: the job's columns. */
  record Click(String eventId, String userId, String sessionId, String action, String page, String referrer,
      String country, String device, double amount, Instant ts, LocalDate eventDate) {}

  /** Rows counted by page, and how many payloads the job would have rejected. */
  record Counts(Map<String, Long> byPage, int parsed, int rejected) {}

  @Override
  public String name() {
    return NAME;
  }

  @Override
  public Trial run(List<ClickstreamGenerator.Event> batch) {
    List<byte[]> payloads = ClickCorpus.payloads(batch);
    long start = System.nanoTime();
    Counts counts = countByPage(payloads);
    double millis = (System.nanoTime() - start) / 1e6;
    if (counts.parsed() != payloads.size()) {
      throw new IllegalStateException("The floor rejected " + counts.rejected() + " clean events");
    }
    return new Trial(millis, Map.of());
  }

  /** Parses the corpus a few times over: the floor is quoted for JIT-compiled code, as the warm systems are. */
  @Override
  public void prime(ClickCorpus corpus) {
    List<byte[]> all = ClickCorpus.payloads(corpus.batch(0, corpus.size()));
    for (int pass = 0; pass < 20; pass++) {
      countByPage(all);
    }
  }

  static Counts countByPage(List<byte[]> payloads) {
    Map<String, Long> byPage = new HashMap<>();
    List<Click> rows = new ArrayList<>(payloads.size());
    int rejected = 0;
    for (byte[] payload : payloads) {
      Click click = parse(payload);
      if (click == null) {
        rejected++;
      } else {
        rows.add(click);
        byPage.merge(click.page(), 1L, Long::sum);
      }
    }
    return new Counts(byPage, rows.size(), rejected);
  }

  /** The event's columns, or null where the job would reject it (not a JSON object, a required field missing). */
  static Click parse(byte[] payload) {
    JsonNode node;
    try {
      node = JSON.readTree(payload);
    } catch (IOException malformed) {
      return null;
    }
    if (node == null || !node.isObject()) {
      return null;
    }
    String eventId = text(node, "event_id");
    String userId = text(node, "user_id");
    String ts = text(node, "ts");
    if (eventId == null || userId == null || ts == null) {
      return null;
    }
    Instant instant;
    try {
      instant = Instant.parse(ts);
    } catch (DateTimeParseException badTime) {
      return null;
    }
    String action = text(node, "action");
    return new Click(eventId, userId, text(node, "session_id"), action == null ? null : action.toLowerCase(Locale.ROOT),
        text(node, "page"), text(node, "referrer"), text(node, "country"), text(node, "device"),
        node.path("amount").asDouble(), instant, LocalDate.ofInstant(instant, ZoneOffset.UTC));
  }

  private static String text(JsonNode node, String field) {
    JsonNode value = node.get(field);
    return value == null || value.isNull() ? null : value.asText();
  }
}
