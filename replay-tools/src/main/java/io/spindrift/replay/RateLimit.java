package io.spindrift.replay;

/**
 * Records per second across every lane of a replay ({@code --rate-limit}): {@link #acquire} waits until the
 * records may go. A limit of 0 or less lets everything through at once.
 */
final class RateLimit {
  private final double perSecond;
  private long nextFreeNanos = System.nanoTime();

  RateLimit(double perSecond) {
    this.perSecond = perSecond;
  }

  /** Waits until {@code records} more records stay within the limit. */
  void acquire(int records) throws InterruptedException {
    if (perSecond <= 0 || records <= 0) {
      return;
    }
    long waitNanos;
    synchronized (this) {
      long now = System.nanoTime();
      long start = Math.max(now, nextFreeNanos);
      nextFreeNanos = start + (long) (records * 1_000_000_000d / perSecond);
      waitNanos = start - now;
    }
    if (waitNanos > 0) {
      Thread.sleep(waitNanos / 1_000_000, (int) (waitNanos % 1_000_000));
    }
  }
}
