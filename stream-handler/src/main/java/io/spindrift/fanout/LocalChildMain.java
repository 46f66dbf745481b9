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
    for (String line = tasks.readLine(); line != null; line = tasks.readLine()) {
      if (line.isBlank()) {
        continue;
      }
      try {
        String response = SpindriftRuntime.container().runChild(line);
        answers.println(LocalProcessInvoker.RESULT + response);
      } catch (Throwable e) {
        e.printStackTrace();
        answers.println(LocalProcessInvoker.ERROR + String.valueOf(e).replace('\n', ' '));
      }
    }
    System.exit(0);
  }
}
