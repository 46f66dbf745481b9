package io.spindrift.bench;

import io.spindrift.examples.ClickstreamGenerator;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/**
 * The one set of generated clickstream events (~500-byte JSON, none malformed) every system is measured on.
 * Batches are consecutive slices; past the end the corpus is replayed with its event times moved on by its own
 * span, so event time only moves forward (a windowed job never sees a replay as late data) while every system
 * still gets the same payloads in the same order.
 */
public final class ClickCorpus {
  private static final long START_MS = 1_700_000_000_000L;
  private final List<ClickstreamGenerator.Event> events;
  private final List<String> times;
  private final Duration span;

  public ClickCorpus(int size, long seed) {
    ClickstreamGenerator generator = new ClickstreamGenerator(seed, 0.0, START_MS);
    List<ClickstreamGenerator.Event> generated = new ArrayList<>(size);
    List<String> stamps = new ArrayList<>(size);
    for (int i = 0; i < size; i++) {
      ClickstreamGenerator.Event event = generator.next();
      generated.add(event);
      stamps.add(timestamp(event));
    }
    this.events = List.copyOf(generated);
    this.times = List.copyOf(stamps);
    Instant first = Instant.parse(times.get(0));
    Instant last = Instant.parse(times.get(size - 1));
    this.span = Duration.between(first, last).plusSeconds(1);
  }

  /** {@code count} events starting at {@code from}; laps past the corpus end are shifted forward in time. */
  public List<ClickstreamGenerator.Event> batch(long from, int count) {
    List<ClickstreamGenerator.Event> batch = new ArrayList<>(count);
    for (int i = 0; i < count; i++) {
      long index = from + i;
      int slot = (int) (index % events.size());
      long lap = index / events.size();
      batch.add(lap == 0 ? events.get(slot) : shifted(slot, lap));
    }
    return batch;
  }

  private ClickstreamGenerator.Event shifted(int slot, long lap) {
    ClickstreamGenerator.Event event = events.get(slot);
    String original = times.get(slot);
    String moved = Instant.parse(original).plus(span.multipliedBy(lap)).toString();
    String json = new String(event.json(), StandardCharsets.UTF_8)
        .replace("\"ts\":\"" + original + "\"", "\"ts\":\"" + moved + "\"");
    return new ClickstreamGenerator.Event(event.key(), json.getBytes(StandardCharsets.UTF_8), event.malformed());
  }

  private static String timestamp(ClickstreamGenerator.Event event) {
    String json = new String(event.json(), StandardCharsets.UTF_8);
    int start = json.indexOf("\"ts\":\"") + 6;
    return json.substring(start, json.indexOf('"', start));
  }

  public static List<byte[]> payloads(List<ClickstreamGenerator.Event> batch) {
    return batch.stream().map(ClickstreamGenerator.Event::json).toList();
  }

  /** Mean payload size in bytes. */
  public double meanBytes() {
    return events.stream().mapToInt(e -> e.json().length).average().orElse(0);
  }

  public int size() {
    return events.size();
  }
}
