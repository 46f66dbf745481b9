package io.spindrift.protocol;

/** Thrown at an armed {@link FaultPoint}: stands for the container dying there. */
public final class InjectedCrash extends RuntimeException {
  public InjectedCrash(FaultPoint point) {
    super("Injected crash at " + point);
  }
}
