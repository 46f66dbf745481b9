package io.spindrift.fanout;

import io.spindrift.event.SourceRecord;
import java.util.List;

/**
 * Reads one lane of a stream directly, after a position: the source side of catch-up read-ahead ({@link ReadAhead}).
 * Records come back decoded exactly as the event-source mapping's event would carry them. A lane that is not far
 * enough behind its tip gives no records, with the reason.
 */
interface LaneTail extends AutoCloseable {
  /**
   * The records of {@code lane} after {@code position}, at most {@code maxRecords} stored records and {@code
   * maxBytes} payload bytes, if the lane is far enough behind its tip.
   *
   * @throws RuntimeException when the stream cannot be read (read-ahead then falls back to the plain event)
   */
  Tail read(String lane, String position, long maxRecords, long maxBytes);

  @Override
  void close();

  /** What one lane gave: its records (possibly none), their stored count and payload bytes, and why. */
  record Tail(List<SourceRecord> records, long stored, long bytes, String reason) {
    static Tail none(String reason) {
      return new Tail(List.of(), 0, 0, reason);
    }
  }
}
