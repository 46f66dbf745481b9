package io.spindrift.replay;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class RateLimitTest {
  @Test
  void recordsBeyondTheRateWaitForTheirShareOfASecond() throws InterruptedException {
    RateLimit limit = new RateLimit(1000);
    long start = System.nanoTime();

    limit.acquire(100);
    limit.acquire(100);
    limit.acquire(100);

    long elapsedMs = (System.nanoTime() - start) / 1_000_000;
    assertThat(elapsedMs).as("300 records at 1,000/s: the last 100 wait 200 ms").isBetween(190L, 2_000L);
  }

  @Test
  void noLimitNeverWaits() throws InterruptedException {
    RateLimit none = new RateLimit(0);
    long start = System.nanoTime();

    none.acquire(1_000_000);

    assertThat((System.nanoTime() - start) / 1_000_000).isLessThan(100);
  }
}
