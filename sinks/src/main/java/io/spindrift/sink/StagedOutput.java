package io.spindrift.sink;

/**
 * A durable reference to output written but not yet visible in its table. {@code ref} is what the commit log
 * stores; it is enough, in any container, to publish the output. An empty stage has no rows and a null ref.
 */
public record StagedOutput(String ref, long rows) {
  public static final StagedOutput EMPTY = new StagedOutput(null, 0);

  public boolean isEmpty() {
    return ref == null;
  }
}
