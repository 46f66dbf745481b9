package io.spindrift.examples;

import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Locale;
import java.util.SplittableRandom;

/**
 * Realistic clickstream events (~500 bytes of JSON each), deterministic for a seed, with a chosen share of
 * malformed ones (truncated JSON, valid JSON without a user, or a time that is no timestamp) so the rejects path
 * is exercised.
 */
public final class ClickstreamGenerator {
  private static final String[] ACTIONS = {"view", "view", "view", "view", "click", "click", "add_to_cart", "purchase"};
  private static final String[] PAGES = {"/", "/search", "/products/espresso-machine", "/products/grinder",
      "/products/kettle", "/cart", "/checkout", "/blog/brew-guide", "/account", "/products/filters"};
  private static final String[] COUNTRIES = {"US", "DE", "FR", "GB", "JP", "BR", "IN", "CA"};
  private static final String[] DEVICES = {"mobile", "desktop", "tablet"};
  private static final String USER_AGENT = "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 "
      + "(KHTML, like Gecko) Version/17.5 Safari/605.1.15";

  private final long seed;
  private final SplittableRandom random;
  private final double malformedShare;
  private final long startMs;
  private long next;

  public ClickstreamGenerator(long seed, double malformedShare, long startMs) {
    this.seed = seed;
    this.random = new SplittableRandom(seed);
    this.malformedShare = malformedShare;
    this.startMs = startMs;
  }

  /** True for events {@link #next} made malformed on purpose, by index. */
  public record Event(String key, byte[] json, boolean malformed) {}

  public Event next() {
    long n = next++;
    String user = "u" + random.nextInt(5_000);
    String json = String.format(Locale.ROOT,
        "{\"event_id\":\"evt-%d-%010d\",\"user_id\":\"%s\",\"session_id\":\"s-%s-%d\",\"action\":\"%s\","
            + "\"page\":\"%s\",\"referrer\":\"https://www.example.com%s\",\"country\":\"%s\",\"device\":\"%s\","
            + "\"amount\":%.2f,\"ts\":\"%s\",\"user_agent\":\"%s\",\"screen\":\"%dx%d\","
            + "\"experiment\":{\"name\":\"checkout-v%d\",\"variant\":\"%s\"}}",
        seed, n, user, user, random.nextInt(20), ACTIONS[random.nextInt(ACTIONS.length)],
        PAGES[random.nextInt(PAGES.length)], PAGES[random.nextInt(PAGES.length)],
        COUNTRIES[random.nextInt(COUNTRIES.length)], DEVICES[random.nextInt(DEVICES.length)],
        random.nextInt(20_000) / 100.0, Instant.ofEpochMilli(startMs + n * 7), USER_AGENT,
        1024 + random.nextInt(1024), 600 + random.nextInt(800), random.nextInt(4), random.nextBoolean() ? "a" : "b");
    boolean malformed = random.nextDouble() < malformedShare;
    if (malformed) {
      json = switch (random.nextInt(3)) {
        case 0 -> json.substring(0, json.length() / 2);
        case 1 -> json.replace("\"user_id\":\"" + user + "\",", "");
        default -> json.replaceFirst("\"ts\":\"[^\"]*\"", "\"ts\":\"yesterday\"");
      };
    }
    return new Event(user, json.getBytes(StandardCharsets.UTF_8), malformed);
  }
}
