package io.spindrift.fanout;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.function.Function;

/**
 * Starts many children through a tree of invokes (DESIGN §8): instead of the parent invoking every child itself, it
 * invokes launchers ({@link ChildTask.Role#LAUNCH}), each a child that invokes a group of the tasks and answers with
 * their responses in order. A sub-task that fails is answered as an error, and the parent retries it directly; a
 * launcher that fails fails all its group's tasks (retried directly too). Answers too large for one response are
 * given by the sub-tasks' result keys, which every child writes anyway.
 */
public final class InvokeTree {
  private static final ObjectMapper JSON = new ObjectMapper();
  /** A Lambda response holds 6 MB. */
  private static final int MAX_RESPONSE_CHARS = 5_000_000;

  private InvokeTree() {}

  /** One sub-task's outcome in a launcher's answer: its response, or why it failed. */
  public record Outcome(String response, String error) {}

  /** The tasks split into groups of at most {@code size}, one per launcher, in order. */
  static List<List<Integer>> groups(List<Integer> indexes, int size) {
    List<List<Integer>> out = new ArrayList<>();
    for (int i = 0; i < indexes.size(); i += size) {
      out.add(List.copyOf(indexes.subList(i, Math.min(indexes.size(), i + size))));
    }
    return out;
  }

  /**
   * What a launcher child does: invokes each of its tasks through {@code invoker}, waits for all, and returns their
   * outcomes as a JSON array in task order; {@code resultKey} gives a task's result key when the answer would be too
   * large.
   */
  public static String launch(ChildTask launcher, ChildInvoker invoker, Function<ChildTask, String> resultKey) {
    List<CompletableFuture<String>> running = new ArrayList<>();
    for (ChildTask task : launcher.launch()) {
      running.add(invoker.invoke(task));
    }
    ArrayNode answers = JSON.createArrayNode();
    long chars = 0;
    for (CompletableFuture<String> one : running) {
      ObjectNode answer = answers.addObject();
      try {
        String response = one.join();
        answer.put("response", response);
        chars += response.length();
      } catch (CompletionException e) {
        answer.put("error", String.valueOf(e.getCause()));
      }
    }
    if (chars > MAX_RESPONSE_CHARS) {
      for (int i = 0; i < answers.size(); i++) {
        ObjectNode answer = (ObjectNode) answers.get(i);
        if (answer.has("response")) {
          answer.put("response", "{\"resultKey\":\"" + resultKey.apply(launcher.launch().get(i)) + "\"}");
        }
      }
    }
    return answers.toString();
  }

  /** A launcher's answer, one outcome per task of its group, in order. */
  static List<Outcome> outcomes(String answer, int tasks) {
    try {
      JsonNode array = JSON.readTree(answer);
      if (!array.isArray() || array.size() != tasks) {
        throw new IllegalStateException("A launcher answered " + answer.length() + " characters that are not "
            + tasks + " outcomes");
      }
      List<Outcome> out = new ArrayList<>(tasks);
      for (JsonNode one : array) {
        out.add(new Outcome(one.has("response") ? one.get("response").asText() : null,
            one.has("error") ? one.get("error").asText() : null));
      }
      return out;
    } catch (IOException e) {
      throw new UncheckedIOException("Unreadable launcher answer", e);
    }
  }
}
