package io.spindrift.examples;

/**
 * What a soak run ends with, and whether it was exactly once: every event produced is in the table (by event id)
 * or in the rejects table (by lane and position), and none is there twice.
 *
 * @param produced events produced, over both sources
 * @param rows rows in the output table
 * @param distinctIds distinct event ids among them
 * @param rejects rows in the rejects table
 * @param distinctRejects distinct (lane, position) among them
 */
record SoakCount(long produced, long rows, long distinctIds, long rejects, long distinctRejects) {

  /** Events in neither table: produced less the distinct ones found. */
  long lost() {
    return produced - distinctIds - distinctRejects;
  }

  /** Rows beyond the first of each event, in the table or the rejects. */
  long duplicated() {
    return rows - distinctIds + rejects - distinctRejects;
  }

  boolean exactlyOnce() {
    return lost() == 0 && duplicated() == 0;
  }
}
