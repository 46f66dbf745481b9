package io.spindrift.protocol;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/** Crash injection for fault tests. Disarmed unless a test arms a point; each arming fires once. */
public final class Faults {
  private final Map<FaultPoint, AtomicInteger> armed = new ConcurrentHashMap<>();

  /** The next {@code times} passes through {@code point} crash. */
  public void arm(FaultPoint point, int times) {
    armed.put(point, new AtomicInteger(times));
  }

  void hit(FaultPoint point) {
    AtomicInteger remaining = armed.get(point);
    if (remaining != null && remaining.getAndDecrement() > 0) {
      throw new InjectedCrash(point);
    }
  }
}
