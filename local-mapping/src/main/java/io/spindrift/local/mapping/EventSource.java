package io.spindrift.local.mapping;

import java.util.List;
import java.util.function.Supplier;

/**
 * What a local mapping reads: the lanes a source has now and their lineage. A Kinesis stream lists its shards,
 * closed ones included, each with the shards it was split or merged from; the mapping reads a lane only once every
 * parent still listed is finished, as Lambda does. A Kafka topic is one lane for the mapping (MSK batches mix
 * partitions).
 */
interface EventSource {
  /** Every lane the source has now, with its parents; a failure is retried on the next discovery. */
  List<Lane> lanes() throws Exception;

  /** A poller that reads {@code lane} from the mapping's starting position. */
  LanePoller open(Lane lane);

  /** A lane and the lanes that must be finished before it is read (none for a lane that was never resharded). */
  record Lane(String name, List<String> parents) {}

  /** A source of one lane that is never resharded. */
  static EventSource single(String name, Supplier<LanePoller> poller) {
    Lane only = new Lane(name, List.of());
    return new EventSource() {
      @Override
      public List<Lane> lanes() {
        return List.of(only);
      }

      @Override
      public LanePoller open(Lane lane) {
        return poller.get();
      }
    };
  }
}
