package io.spindrift.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.LinkedBlockingQueue;
import org.apache.logging.log4j.Level;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.core.LogEvent;
import org.apache.logging.log4j.core.LoggerContext;
import org.apache.logging.log4j.core.appender.AbstractAppender;
import org.apache.logging.log4j.core.config.LoggerConfig;
import org.apache.logging.log4j.core.config.Property;

/**
 * Reads what each invocation did from the runtime's own structured log line ({@code io.spindrift.invocation}:
 * txnId, records, durationMs and {@code BatchOutcome.timingsMs}), so the benchmark sees the phases of exactly
 * the invocations it timed without the handler exposing them. Installing it also keeps those lines off the
 * terminal.
 */
final class InvocationLog {
  private static final String LOGGER = "io.spindrift.invocation";
  private static final ObjectMapper JSON = new ObjectMapper();

  /** One invocation's line: its transaction id, runtime duration and phase timings. */
  record Line(String txnId, long records, double durationMs, Map<String, Double> timingsMs) {}

  private final LinkedBlockingQueue<String> lines = new LinkedBlockingQueue<>();

  /** Replaces the invocation logger's appenders with a capturing one. */
  static InvocationLog install() {
    InvocationLog log = new InvocationLog();
    LoggerContext context = (LoggerContext) LogManager.getContext(false);
    LoggerConfig config = context.getConfiguration().getLoggerConfig(LOGGER);
    if (!config.getName().equals(LOGGER)) {
      throw new IllegalStateException("No logger configuration named " + LOGGER
          + ": the runtime's log4j2.properties changed; the benchmark reads its invocation lines");
    }
    AbstractAppender capture = new AbstractAppender("bench-invocations", null, null, true, Property.EMPTY_ARRAY) {
      @Override
      public void append(LogEvent event) {
        log.lines.add(event.getMessage().getFormattedMessage());
      }
    };
    capture.start();
    new ArrayList<>(config.getAppenders().keySet()).forEach(config::removeAppender);
    config.addAppender(capture, Level.INFO, null);
    context.updateLoggers();
    return log;
  }

  void clear() {
    lines.clear();
  }

  /** The newest line logged since the last call (the runtime logs synchronously, before the handler returns). */
  Line last() {
    List<String> drained = new ArrayList<>();
    lines.drainTo(drained);
    if (drained.isEmpty()) {
      throw new IllegalStateException("The runtime logged no invocation line (logger " + LOGGER + " at INFO)");
    }
    return parse(drained.get(drained.size() - 1));
  }

  /** Every line logged since the last call, oldest first. */
  List<Line> drain() {
    List<String> drained = new ArrayList<>();
    lines.drainTo(drained);
    return drained.stream().map(InvocationLog::parse).toList();
  }

  static Line parse(String line) {
    try {
      JsonNode node = JSON.readTree(line);
      Map<String, Double> timings = new LinkedHashMap<>();
      node.path("timingsMs").fields().forEachRemaining(e -> timings.put(e.getKey(), e.getValue().asDouble()));
      return new Line(node.path("txnId").asText(null), node.path("records").asLong(),
          node.path("durationMs").asDouble(), timings);
    } catch (Exception e) {
      throw new IllegalStateException("Cannot read the runtime's invocation line: " + line, e);
    }
  }
}
