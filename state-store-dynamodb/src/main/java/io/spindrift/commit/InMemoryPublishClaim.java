package io.spindrift.commit;

import java.util.HashMap;
import java.util.Map;
import java.util.function.LongSupplier;

/**
 * The {@link PublishClaim} contract in memory, for protocol tests and in-process runs: the same conditions (absent or
 * expired to take, owner to renew or release), checked and applied under one lock, on a clock a test may drive.
 */
public final class InMemoryPublishClaim implements PublishClaim {
  private final Map<String, Claim> claims = new HashMap<>();
  private final LongSupplier clock;

  /** A claim on the wall clock. */
  public InMemoryPublishClaim() {
    this(System::currentTimeMillis);
  }

  /** A claim whose expiry is judged by {@code clockMs} (epoch ms): a test moves time past a claim's expiry. */
  public InMemoryPublishClaim(LongSupplier clockMs) {
    this.clock = clockMs;
  }

  @Override
  public synchronized Claim read(String app) {
    Claim claim = claims.get(app);
    return claim == null ? null
        : new Claim(claim.owner(), claim.through(), claim.expiresAtMs(), claim.expiresAtMs() < clock.getAsLong());
  }

  @Override
  public synchronized boolean tryTake(String app, String owner, long through, long durationMs) {
    long now = clock.getAsLong();
    Claim current = claims.get(app);
    if (current != null && current.expiresAtMs() >= now) {
      return false;
    }
    claims.put(app, new Claim(owner, through, now + durationMs, false));
    return true;
  }

  @Override
  public synchronized boolean renew(String app, String owner, long durationMs) {
    Claim current = claims.get(app);
    if (current == null || !current.owner().equals(owner)) {
      return false;
    }
    claims.put(app, new Claim(owner, current.through(), clock.getAsLong() + durationMs, false));
    return true;
  }

  @Override
  public synchronized void release(String app, String owner) {
    Claim current = claims.get(app);
    if (current != null && current.owner().equals(owner)) {
      claims.remove(app);
    }
  }
}
