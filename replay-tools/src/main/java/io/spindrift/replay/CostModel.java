package io.spindrift.replay;

/**
 * Lambda's price for a replay and an estimate of its run time. Prices are us-east-1 x86 on-demand (per GB-second
 * and per request); the time estimate is a warm invocation's fixed cost plus a per-record cost, from the targets
 * in DESIGN §12 (a batch of 1,000 records in 250 ms, 25,000 records/s in a large batch).
 */
record CostModel(int memoryMb) {
  static final double USD_PER_GB_SECOND = 0.0000166667;
  static final double USD_PER_REQUEST = 0.20 / 1_000_000;
  static final double FIXED_MS_PER_BATCH = 210;
  static final double MS_PER_RECORD = 0.04;

  /** Estimated milliseconds in the function for {@code records} records in {@code batches} batches. */
  double estimatedMs(long records, long batches) {
    return batches * FIXED_MS_PER_BATCH + records * MS_PER_RECORD;
  }

  /** Dollars for {@code invocations} invocations that ran {@code functionMs} milliseconds in total. */
  double usd(long invocations, double functionMs) {
    return functionMs / 1000.0 * memoryMb / 1024.0 * USD_PER_GB_SECOND + invocations * USD_PER_REQUEST;
  }
}
