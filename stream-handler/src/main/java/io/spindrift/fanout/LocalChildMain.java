package io.spindrift.fanout;

import io.spindrift.runtime.SpindriftRuntime;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;

/**
 * A local child executor process ({@link LocalProcessInvoker}): reads task lines on stdin, runs each through the
 * same child code as the Lambda handler ({@link ChildExecutorHandler}) and answers one marked line on stdout. Logs
 * go to stderr. Exits when stdin closes (the parent closed it, or died).
 */
public final class LocalChildMain {
  private LocalChildMain() {}

  public static void main(String[] args) throws Exception {
    PrintStream answers = new PrintStream(new java.io.FileOutputStream(java.io.FileDescriptor.out), true,
        StandardCharsets.UTF_8);
    // everything else printed on stdout (Spark, libraries) goes to stderr: stdout carries only answers
    System.setOut(System.err);
    BufferedReader tasks = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
    java.util.Map<String, SpindriftRuntime> runtimes = new java.util.HashMap<>();
    SpindriftRuntime next = null;
    RuntimeException unusable = null;
    for (String line = tasks.readLine(); line != null; line = tasks.readLine()) {
      if (line.isBlank()) {
        continue;
      }
      if (line.startsWith(LocalProcessInvoker.SETTINGS)) {
        // the next task belongs to an app of these settings: one warm runtime per settings, as one container each
        String settings = line.substring(LocalProcessInvoker.SETTINGS.length());
        try {
          next = runtimes.computeIfAbsent(settings, json -> SpindriftRuntime.create(
              io.spindrift.config.SpindriftConfig.of(readMap(json))));
          unusable = null;
        } catch (RuntimeException e) {
          unusable = e;
        }
        continue;
      }
      try {
        if (unusable != null) {
          throw unusable;
        }
        SpindriftRuntime runtime = next != null ? next : SpindriftRuntime.container();
        next = null;
        String response = runtime.runChild(line);
        answers.println(LocalProcessInvoker.RESULT + response);
      } catch (Throwable e) {
        e.printStackTrace();
        answers.println(LocalProcessInvoker.ERROR + String.valueOf(e).replace('\n', ' '));
      } finally {
        unusable = null;
      }
    }
    System.exit(0);
  }

  private static java.util.Map<String, String> readMap(String json) {
    try {
      return new com.fasterxml.jackson.databind.ObjectMapper().readValue(json,
          new com.fasterxml.jackson.core.type.TypeReference<java.util.Map<String, String>>() {});
    } catch (java.io.IOException e) {
      throw new IllegalArgumentException("Unreadable settings line: " + json, e);
    }
  }
}
