package io.spindrift.fanout;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.spindrift.config.ConfigException;
import io.spindrift.config.SpindriftConfig;
import io.spindrift.event.Batch;
import io.spindrift.event.KafkaRecord;
import io.spindrift.event.SourceKind;
import io.spindrift.event.SourceRecord;
import io.spindrift.protocol.BatchOutcome;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;

/** Read-ahead's decisions over a stream stand-in: where it reads from, what runs, what the response may name. */
class ReadAheadTest {
  private static final String LANE = "kafka:t-0";

  private static KafkaRecord record(long offset) {
    return new KafkaRecord("t", 0, offset, 1_000 + offset, 0, null, new byte[] {1, 2, 3}, List.of());
  }

  private static Batch event(long first, int count) {
    List<SourceRecord> records = new ArrayList<>();
    for (long offset = first; offset < first + count; offset++) {
      records.add(record(offset));
    }
    return new Batch(SourceKind.KAFKA, records);
  }

  private static BatchOutcome outcome(Batch batch, List<String> failed) {
    return new BatchOutcome(1, "txn", batch.size(), 0, batch.size(), 0, 0, 1, failed, Map.of());
  }

  /** A partition whose records run up to {@code end} (exclusive); remembers where it was asked to read from. */
  private static final class Partition implements LaneTail {
    final long end;
    final List<String> readFrom = new ArrayList<>();
    RuntimeException failure;

    Partition(long end) {
      this.end = end;
    }

    @Override
    public Tail read(String lane, String position, long maxRecords, long maxBytes) {
      readFrom.add(position);
      if (failure != null) {
        throw failure;
      }
      List<SourceRecord> out = new ArrayList<>();
      for (long offset = Long.parseLong(position) + 1; offset < end && out.size() < maxRecords; offset++) {
        out.add(record(offset));
      }
      return new Tail(out, out.size(), 3L * out.size(), "test");
    }

    @Override
    public void close() {}
  }

  private static ReadAhead readAhead(Partition partition, Map<String, String> committed, long maxRecords) {
    Map<SourceKind, Supplier<LaneTail>> tails = Map.of(SourceKind.KAFKA, () -> partition);
    return new ReadAhead("app", true, maxRecords, 1 << 20, lanes -> committed, tails);
  }

  @Test
  void eventAndReadAheadRunAsOneBatchWithinTheLimit() {
    Partition partition = new Partition(1_000);
    List<Batch> ran = new ArrayList<>();

    readAhead(partition, Map.of(), 50).process(event(0, 10), batch -> {
      ran.add(batch);
      return outcome(batch, List.of());
    });

    assertThat(partition.readFrom).containsExactly("9");
    assertThat(ran).hasSize(1);
    assertThat(ran.get(0).size()).isEqualTo(60);
    assertThat(ran.get(0).ranges(Map.of()).get(0).last()).isEqualTo("59");
  }

  @Test
  void aRedeliveredEventReadsAheadFromTheCommittedPosition() {
    Partition partition = new Partition(1_000);
    List<Batch> ran = new ArrayList<>();

    readAhead(partition, Map.of(LANE, "59"), 50).process(event(10, 10), batch -> {
      ran.add(batch);
      return outcome(batch, List.of());
    });

    assertThat(partition.readFrom).containsExactly("59");
    assertThat(ran.get(0).records().get(ran.get(0).size() - 1).position()).isEqualTo("109");
  }

  @Test
  void theResponseNeverNamesAReadAheadRecord() {
    Partition partition = new Partition(100);

    BatchOutcome outcome = readAhead(partition, Map.of(), 1_000).process(event(0, 10),
        batch -> outcome(batch, List.of("t-0@5", "t-0@50")));

    assertThat(outcome.failedPositions()).containsExactly("t-0@5");
  }

  @Test
  void aFailedReadFallsBackToThePlainEvent() {
    Partition partition = new Partition(100);
    partition.failure = new IllegalStateException("broker unreachable");
    List<Batch> ran = new ArrayList<>();
    ReadAhead readAhead = readAhead(partition, Map.of(), 1_000);

    readAhead.process(event(0, 10), batch -> {
      ran.add(batch);
      return outcome(batch, List.of());
    });

    assertThat(ran).extracting(Batch::size).containsExactly(10);
    assertThat(readAhead.fallbacks()).isEqualTo(1);
  }

  @Test
  void aFailedBatchWithReadAheadFallsBackToThePlainEvent() {
    Partition partition = new Partition(100);
    List<Batch> ran = new ArrayList<>();
    ReadAhead readAhead = readAhead(partition, Map.of(), 1_000);

    BatchOutcome outcome = readAhead.process(event(0, 10), batch -> {
      ran.add(batch);
      if (batch.size() > 10) {
        throw new IllegalStateException("commit kept conflicting");
      }
      return outcome(batch, List.of());
    });

    assertThat(ran).extracting(Batch::size).containsExactly(100, 10);
    assertThat(outcome.records()).isEqualTo(10);
    assertThat(readAhead.readAheadRecords()).isZero();
  }

  @Test
  void offByDefaultAndReadsNothing() {
    ReadAhead readAhead = ReadAhead.from(SpindriftConfig.of(Map.of("SPINDRIFT_APP", "app")), lanes -> {
      throw new AssertionError("no log read when off");
    });
    List<Batch> ran = new ArrayList<>();

    readAhead.process(event(0, 10), batch -> {
      ran.add(batch);
      return outcome(batch, List.of());
    });

    assertThat(ran).extracting(Batch::size).containsExactly(10);
  }

  @Test
  void aModeOtherThanOnOrOffIsRefused() {
    assertThatThrownBy(() -> ReadAhead.from(SpindriftConfig.of(Map.of("SPINDRIFT_READ_AHEAD", "auto")),
        lanes -> Map.of())).isInstanceOf(ConfigException.class).hasMessageContaining("SPINDRIFT_READ_AHEAD");
  }
  /**
   * A batch that cannot fan out (fan-out off, or a stateful job a reduce child cannot own) never grows past one
   * invocation: read-ahead stops at the planner's single-invocation limit, records and time.
   */
  @Test
  void aBatchThatCannotFanOutReadsAheadOnlyUpToWhatOneInvocationCanFinish() {
    Partition partition = new Partition(100_000);
    List<Batch> ran = new ArrayList<>();
    FanOutPlanner off = new FanOutPlanner(SpindriftConfig.of(Map.of("SPINDRIFT_FANOUT_MAX_RECORDS", "40")));
    ReadAhead.Room room = off.singleInvocation(false, null, Long.MAX_VALUE);

    readAhead(partition, Map.of(), 1_000).process(event(0, 10), room, batch -> {
      ran.add(batch);
      return outcome(batch, List.of());
    });
    assertThat(ran).extracting(Batch::size).containsExactly(40);
    assertThat(room.why()).contains("SPINDRIFT_FANOUT=off");

    // 0.05 ms a record (the default) against 1,500 ms left: half of it holds 15,000 records
    ReadAhead.Room timed = new FanOutPlanner(SpindriftConfig.of(Map.of())).singleInvocation(false, null, 1_500);
    ran.clear();
    readAhead(partition, Map.of(), 50_000).process(event(0, 10), timed, batch -> {
      ran.add(batch);
      return outcome(batch, List.of());
    });
    assertThat(ran).extracting(Batch::size).containsExactly(15_000);
  }

  @Test
  void anEventThatFillsTheInvocationReadsNothingAheadAndAStatefulJobThatSplitsIsUnbounded() {
    Partition partition = new Partition(1_000);
    List<Batch> ran = new ArrayList<>();
    FanOutPlanner auto = new FanOutPlanner(SpindriftConfig.of(Map.of("SPINDRIFT_FANOUT", "auto",
        "SPINDRIFT_FANOUT_MAX_RECORDS", "10")));
    ReadAhead.Room unsplittable = auto.singleInvocation(true, "the job has 2 stateful operators", Long.MAX_VALUE);
    assertThat(unsplittable.why()).contains("the job cannot fan out: the job has 2 stateful operators");

    readAhead(partition, Map.of(), 1_000).process(event(0, 10), unsplittable, batch -> {
      ran.add(batch);
      return outcome(batch, List.of());
    });
    assertThat(ran).extracting(Batch::size).containsExactly(10);
    assertThat(partition.readFrom).as("the stream is not even read").isEmpty();

    assertThat(auto.singleInvocation(true, null, 1_000)).isEqualTo(ReadAhead.Room.UNBOUNDED);
    assertThat(auto.singleInvocation(false, null, 1_000)).isEqualTo(ReadAhead.Room.UNBOUNDED);
  }
}
