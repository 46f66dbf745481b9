package io.spindrift.local.mapping;

/** Where a local mapping is with one lane (see {@link LocalEventSourceMapping#lanes()}). */
public enum LaneState {
  /** Known, not read yet: a parent shard it was split or merged from is still being read. */
  WAITING_FOR_PARENTS,
  /** A worker reads it and delivers its records. */
  READING,
  /** Closed, and every record was delivered or sent to the on-failure destination; never read again. */
  FINISHED
}
