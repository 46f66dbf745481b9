package io.spindrift.examples;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.BufferedReader;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Locale;

/**
 * The events a local run produces: the built-in clickstream, or a user's file with one payload per line. Files are
 * read and checked completely before anything is produced, so a bad line stops the run before it starts, naming
 * the line.
 *
 * @param events the payloads with their partition keys (Kinesis partition key, Kafka record key), in file order
 * @param malformed how many of them are malformed on purpose (the generator's share; 0 for a file)
 * @param description where they came from, for the summary
 */
public record EventInput(List<Event> events, int malformed, String description) {
  private static final ObjectMapper JSON = new ObjectMapper()
      .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);

  public EventInput {
    events = List.copyOf(events);
  }

  /** One event: its partition key and payload bytes. */
  public record Event(String key, byte[] payload) {}

  /** How each line of an events file becomes a payload. */
  public enum LineFormat {
    /** One JSON value per line, checked; the payload is the line's UTF-8 bytes. */
    JSON,
    /** Each line as it is (UTF-8), unchecked: CSV, plain text, JSON with deliberate mistakes for the rejects. */
    TEXT,
    /** One base64 payload per line (binary formats: Avro, Protobuf...); the payload is the decoded bytes. */
    BASE64
  }

  /** A line of an events file that cannot become a payload. */
  public static final class BadLineException extends IllegalArgumentException {
    public BadLineException(Path file, long line, String problem) {
      super(file + " line " + line + ": " + problem);
    }
  }

  /** {@code count} clickstream events, deterministic, with half a percent malformed on purpose. */
  public static EventInput clickstream(int count) {
    ClickstreamGenerator generator = new ClickstreamGenerator(42, 0.005, System.currentTimeMillis() - 3_600_000);
    List<Event> events = new ArrayList<>(count);
    int malformed = 0;
    for (int i = 0; i < count; i++) {
      ClickstreamGenerator.Event event = generator.next();
      malformed += event.malformed() ? 1 : 0;
      events.add(new Event(event.key(), event.json()));
    }
    return new EventInput(events, malformed, "clickstream generator");
  }

  /**
   * The non-blank lines of {@code file} as payloads. The partition key is the value of the JSON field {@code
   * keyField} when given (JSON lines only) and present, otherwise the line number.
   *
   * @throws BadLineException naming the file and line of the first line that is not valid in {@code format}
   * @throws IllegalArgumentException if the file cannot be read
   */
  public static EventInput fromFile(Path file, LineFormat format, String keyField) {
    if (keyField != null && format != LineFormat.JSON) {
      throw new IllegalArgumentException("--partition-key needs JSON lines (--input-format json), not " + format);
    }
    List<Event> events = new ArrayList<>();
    try (BufferedReader reader = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
      long number = 0;
      for (String line = reader.readLine(); line != null; line = reader.readLine()) {
        number++;
        if (!line.isBlank()) {
          events.add(event(file, number, line, format, keyField));
        }
      }
    } catch (java.nio.charset.MalformedInputException e) {
      throw new IllegalArgumentException("Events file " + file + " is not UTF-8 text: use --input-format base64"
          + " for binary payloads, one base64 payload per line");
    } catch (IOException e) {
      throw new IllegalArgumentException("Cannot read the events file " + file + ": " + e);
    }
    if (events.isEmpty()) {
      throw new IllegalArgumentException("Events file " + file + " has no events (one payload per line)");
    }
    return new EventInput(events, 0, file + " (" + format.name().toLowerCase(Locale.ROOT) + " lines)");
  }

  private static Event event(Path file, long number, String line, LineFormat format, String keyField) {
    String key = "line-" + number;
    return switch (format) {
      case TEXT -> new Event(key, line.getBytes(StandardCharsets.UTF_8));
      case BASE64 -> {
        try {
          yield new Event(key, Base64.getDecoder().decode(line.strip()));
        } catch (IllegalArgumentException e) {
          throw new BadLineException(file, number, "not base64 (" + e.getMessage() + ")");
        }
      }
      case JSON -> {
        JsonNode node;
        try {
          node = JSON.readTree(line);
        } catch (JsonProcessingException e) {
          throw new BadLineException(file, number, "not valid JSON (" + e.getOriginalMessage() + ")");
        }
        JsonNode value = keyField == null ? null : node.get(keyField);
        if (value != null && value.isValueNode() && !value.isNull() && !value.asText().isEmpty()) {
          key = value.asText();
        }
        yield new Event(key, line.getBytes(StandardCharsets.UTF_8));
      }
    };
  }

  public int size() {
    return events.size();
  }
}
