package io.spindrift.fanout;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.spindrift.commit.LaneRange;
import io.spindrift.config.ConfigException;
import io.spindrift.config.Setting;
import io.spindrift.config.SpindriftConfig;
import io.spindrift.event.Batch;
import io.spindrift.event.KafkaRecord;
import io.spindrift.event.SourceKind;
import io.spindrift.event.SourceRecord;
import io.spindrift.protocol.InjectedCrash;
import io.spindrift.protocol.BatchOutcome;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Catch-up read-ahead (DESIGN §8, docs/FANOUT.md): a lane far behind its tip reads ahead of its event directly from
 * the stream, up to {@code SPINDRIFT_READ_AHEAD_MAX_RECORDS} and {@code _MAX_BYTES}, and event plus read-ahead run
 * as one batch through the protocol, whose commit moves the lane past the read-ahead. The mapping's later deliveries
 * of those records are at or below the lane's position and change nothing (I2). A batch big enough fans out through
 * the planner like any other.
 *
 * <p>A lane reads ahead from its committed position when that is past its event's last record (the event was
 * delivered again after an earlier read-ahead), so every invocation of a lane that is far behind moves it. A
 * failure while reading, or of the batch with its read-ahead, falls back to the plain event; a partial-batch
 * response never names a read-ahead record (the mapping would resend from a record it never sent). Off by
 * default ({@code SPINDRIFT_READ_AHEAD=on} turns it on); each decision is logged on {@code io.spindrift.fanout}.
 */
public final class ReadAhead implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger("io.spindrift.fanout");
  private static final ObjectMapper JSON = new ObjectMapper();

  private final String app;
  private final boolean enabled;
  private final long maxRecords;
  private final long maxBytes;
  private final Function<Collection<String>, Map<String, String>> committedPositions;
  private final Map<SourceKind, LaneTail> tails = new java.util.EnumMap<>(SourceKind.class);
  private final Map<SourceKind, Supplier<LaneTail>> tailFactories;
  private final AtomicLong readAheadRecords = new AtomicLong();
  private final AtomicLong fallbacks = new AtomicLong();

  ReadAhead(String app, boolean enabled, long maxRecords, long maxBytes,
      Function<Collection<String>, Map<String, String>> committedPositions,
      Map<SourceKind, Supplier<LaneTail>> tailFactories) {
    this.app = app;
    this.enabled = enabled;
    this.maxRecords = maxRecords;
    this.maxBytes = maxBytes;
    this.committedPositions = committedPositions;
    this.tailFactories = tailFactories;
  }

  /**
   * The read-ahead the settings describe; {@code committedPositions} answers the app's committed position of each
   * lane asked for (absent: none yet).
   *
   * @throws ConfigException for a SPINDRIFT_READ_AHEAD* value out of range
   */
  public static ReadAhead from(SpindriftConfig config,
      Function<Collection<String>, Map<String, String>> committedPositions) {
    String mode = config.get(Setting.READ_AHEAD).trim().toLowerCase(Locale.ROOT);
    if (!mode.equals("on") && !mode.equals("off")) {
      throw new ConfigException(Setting.READ_AHEAD, mode, "on or off");
    }
    long minBehindMs = Long.parseLong(config.get(Setting.READ_AHEAD_MIN_BEHIND_MS).trim());
    long minLag = Long.parseLong(config.get(Setting.READ_AHEAD_MIN_LAG_RECORDS).trim());
    String bootstrap = config.get(Setting.KAFKA_BOOTSTRAP).trim();
    Map<SourceKind, Supplier<LaneTail>> factories = new java.util.EnumMap<>(SourceKind.class);
    factories.put(SourceKind.KINESIS,
        () -> new KinesisTail(io.spindrift.runtime.AwsClients.kinesis(config), minBehindMs));
    if (!bootstrap.isEmpty()) {
      factories.put(SourceKind.KAFKA, () -> new KafkaTail(bootstrap, minLag,
          KafkaSecurity.properties(config, arn -> io.spindrift.runtime.AwsClients.secret(config, arn))));
    }
    return new ReadAhead(config.app(), mode.equals("on"), positive(config, Setting.READ_AHEAD_MAX_RECORDS),
        positive(config, Setting.READ_AHEAD_MAX_BYTES), committedPositions, factories);
  }

  private static long positive(SpindriftConfig config, Setting setting) {
    long value;
    try {
      value = Long.parseLong(config.get(setting).trim());
    } catch (NumberFormatException e) {
      value = 0;
    }
    if (value < 1) {
      throw new ConfigException(setting, config.get(setting), "a whole number of at least 1");
    }
    return value;
  }

  /**
   * Runs {@code event} through {@code protocol}, with the read-ahead of its lanes that are far behind. Returns the
   * protocol's outcome, its failed positions restricted to the event's records.
   *
   * @throws io.spindrift.protocol.BatchFailedException if the plain event fails (a failed batch with read-ahead
   *     is followed by the plain event alone)
   */
  public BatchOutcome process(Batch event, Function<Batch, BatchOutcome> protocol) {
    return process(event, Room.UNBOUNDED, protocol);
  }

  /**
   * What a batch may grow to in one invocation: unbounded when a batch too big for one invocation fans out, else
   * the single invocation's limits (see {@link FanOutPlanner#singleInvocation}).
   */
  public record Room(long records, long bytes, String why) {
    public static final Room UNBOUNDED = new Room(Long.MAX_VALUE, Long.MAX_VALUE, "");
  }

  /**
   * As {@link #process(Batch, Function)}, the event and its read-ahead together within {@code room}: when the
   * batch cannot fan out, read-ahead never makes it more than one invocation can finish.
   */
  public BatchOutcome process(Batch event, Room room, Function<Batch, BatchOutcome> protocol) {
    if (!enabled || event.isEmpty()) {
      return protocol.apply(event);
    }
    List<SourceRecord> ahead;
    try {
      ahead = readAhead(event, room);
    } catch (RuntimeException e) {
      fallback(event, "reading ahead failed: " + e);
      return protocol.apply(event);
    }
    if (ahead.isEmpty()) {
      return protocol.apply(event);
    }
    List<SourceRecord> records = new ArrayList<>(event.records());
    records.addAll(ahead);
    BatchOutcome outcome;
    try {
      outcome = protocol.apply(new Batch(event.kind(), records));
    } catch (InjectedCrash crash) {
      throw crash; // a test's stand-in for the container dying: nothing runs after it
    } catch (RuntimeException e) {
      fallback(event, "the batch with " + ahead.size() + " read-ahead records failed: " + e.getMessage());
      return protocol.apply(event);
    }
    readAheadRecords.addAndGet(ahead.size());
    return onlyEventFailures(outcome, event);
  }

  /** The records after each lane of {@code event} that is far behind, within the limits (none: no lane is). */
  private List<SourceRecord> readAhead(Batch event, Room room) {
    long recordsLeft = Math.min(maxRecords, room.records() == Long.MAX_VALUE ? Long.MAX_VALUE
        : room.records() - event.size());
    long bytesLeft = Math.min(maxBytes, room.bytes() == Long.MAX_VALUE ? Long.MAX_VALUE
        : room.bytes() - event.bytes());
    if (recordsLeft <= 0 || bytesLeft <= 0) {
      log(event, false, 0, 0, "the event alone fills one invocation (" + room.why() + ")");
      return List.of();
    }
    Map<String, String> last = new LinkedHashMap<>();
    for (SourceRecord record : event.records()) {
      last.merge(record.lane(), record.position(), (a, b) -> LaneRange.compare(a, b) >= 0 ? a : b);
    }
    Map<String, String> committed = committedPositions.apply(last.keySet());
    LaneTail tail = tail(event.kind());
    List<SourceRecord> out = new ArrayList<>();
    List<String> reasons = new ArrayList<>();
    long stored = 0;
    long bytes = 0;
    if (tail == null) {
      reasons.add("no stream to read " + event.kind() + " lanes from (SPINDRIFT_KAFKA_BOOTSTRAP is empty)");
    } else {
      for (Map.Entry<String, String> lane : last.entrySet()) {
        if (stored >= recordsLeft || bytes >= bytesLeft) {
          break;
        }
        String from = lane.getValue();
        String position = committed.get(lane.getKey());
        if (position != null && LaneRange.compare(position, from) > 0) {
          from = position;
        }
        LaneTail.Tail read = tail.read(lane.getKey(), from, recordsLeft - stored, bytesLeft - bytes);
        out.addAll(read.records());
        stored += read.stored();
        bytes += read.bytes();
        reasons.add(read.reason());
      }
    }
    log(event, !out.isEmpty(), out.size(), bytes, String.join("; ", reasons));
    return out;
  }

  private synchronized LaneTail tail(SourceKind kind) {
    Supplier<LaneTail> factory = tailFactories.get(kind);
    return factory == null ? null : tails.computeIfAbsent(kind, k -> factory.get());
  }

  /** {@code outcome} without failed positions naming a record that is not the event's. */
  private static BatchOutcome onlyEventFailures(BatchOutcome outcome, Batch event) {
    if (outcome.failedPositions().isEmpty()) {
      return outcome;
    }
    Set<String> ids = new HashSet<>();
    for (SourceRecord record : event.records()) {
      ids.add(record instanceof KafkaRecord kafka
          ? kafka.topic() + "-" + kafka.partition() + "@" + kafka.offset() : record.position());
    }
    List<String> failed = outcome.failedPositions().stream().filter(ids::contains).toList();
    return outcome.withFailedPositions(failed);
  }

  private void fallback(Batch event, String reason) {
    fallbacks.incrementAndGet();
    LOG.warn(line(event, false, 0, 0, reason + "; the event runs alone"));
  }

  private void log(Batch event, boolean readingAhead, long records, long bytes, String reason) {
    if (LOG.isInfoEnabled()) {
      LOG.info(line(event, readingAhead, records, bytes, reason));
    }
  }

  private String line(Batch event, boolean readingAhead, long records, long bytes, String reason) {
    Map<String, Object> line = new LinkedHashMap<>();
    line.put("app", app);
    line.put("readAhead", readingAhead);
    line.put("lanes", List.copyOf(event.lanes()));
    line.put("eventRecords", event.size());
    line.put("records", records);
    line.put("bytes", bytes);
    line.put("reason", reason);
    try {
      return JSON.writeValueAsString(line);
    } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
      return line.toString();
    }
  }

  /** Records read ahead into batches that committed or were duplicates, so far. */
  public long readAheadRecords() {
    return readAheadRecords.get();
  }

  /** Times a read-ahead failed and its event ran alone. */
  public long fallbacks() {
    return fallbacks.get();
  }

  @Override
  public synchronized void close() {
    tails.values().forEach(LaneTail::close);
    tails.clear();
  }
}
