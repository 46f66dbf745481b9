package io.spindrift.replay;

import io.spindrift.event.SourceKind;
import java.util.List;
import java.util.Map;

/**
 * A stream a replay reads: a Kinesis stream or a Kafka topic. {@link #plan} lists its lanes, parents first;
 * {@link #open} reads one lane's part of the range, optionally resuming after a position already handled.
 */
interface ReplaySource extends AutoCloseable {
  SourceKind kind();

  /** The stream's name (stream or topic). */
  String name();

  /** Every lane of the stream in an order where a lane's parents come before it. */
  List<LanePlan> plan(RangeSpec range);

  /** A reader of {@code lane}'s part of {@code range}, starting after {@code resumeAfter} when it is not null. */
  LaneReader open(LanePlan lane, RangeSpec range, String resumeAfter);

  /**
   * How far each lane's tip is beyond {@code positions} (lane → committed position, absent: nothing committed):
   * lane → a human- and machine-readable lag.
   */
  Map<String, Lag> lag(Map<String, String> positions);

  @Override
  void close();

  /** A lane's distance from the stream's tip: records when the source can count them, else milliseconds. */
  record Lag(String tipPosition, Long records, Long millis, boolean closed) {}
}
