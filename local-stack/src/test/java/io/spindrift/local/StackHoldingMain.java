package io.spindrift.local;

import java.util.stream.Collectors;

/** A JVM that starts a stack, prints its children's pids and waits to be killed; see LocalStackTest. */
final class StackHoldingMain {
  static final String PIDS_PREFIX = "CHILD_PIDS ";

  private StackHoldingMain() {}

  public static void main(String[] args) throws InterruptedException {
    LocalStack stack = LocalStack.start();
    System.out.println(PIDS_PREFIX
        + stack.childPids().stream().map(String::valueOf).collect(Collectors.joining(" ")));
    System.out.flush();
    Thread.sleep(Long.MAX_VALUE);
  }
}
