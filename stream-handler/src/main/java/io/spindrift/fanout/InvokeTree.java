package io.spindrift.fanout;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.spindrift.event.SourceKind;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.Semaphore;
import java.util.function.Function;

/**
 * Starts many children through a tree of invokes (DESIGN §8): instead of the parent invoking every child itself, it
 * invokes launchers ({@link ChildTask.Role#LAUNCH}), each a child that invokes its part of the tasks and answers with
 * their responses in order. Every node of the tree (the parent, each launcher) has at most {@code size} children, a
 * child being a task or a launcher of a contiguous group of tasks of its own, so n tasks need a tree of depth
 * ⌈log_size n⌉ and no node invokes more than {@code size}. A node starts its children concurrently, at most its
 * invoker's {@link ChildInvoker#concurrency()} at once (the next as soon as one answers), and waits for all.
 *
 * <p>A sub-task that fails is answered as an error, and the parent retries it directly; a launcher that fails fails
 * all its subtree's tasks (retried directly too). Answers too large for one response are given by the sub-tasks'
 * result keys, which every child writes anyway.
 */
public final class InvokeTree {
  private static final ObjectMapper JSON = new ObjectMapper();
  /** A Lambda response holds 6 MB. */
  private static final int MAX_RESPONSE_CHARS = 5_000_000;

  private InvokeTree() {}

  /** One sub-task's outcome in a launcher's answer: its response, or why it failed. */
  public record Outcome(String response, String error) {}

  /**
   * The parent's children for {@code indexes} (more than {@code size} of them): at most {@code size} contiguous
   * groups, as even as can be, each started through one launcher ({@link #launcher}).
   */
  static List<List<Integer>> groups(List<Integer> indexes, int size) {
    List<List<Integer>> out = new ArrayList<>();
    for (List<Integer> group : split(indexes, size)) {
      out.add(List.copyOf(group));
    }
    return out;
  }

  /**
   * The launcher of {@code tasks}: it invokes them itself when they are at most {@code size}; otherwise it invokes at
   * most {@code size} children, each a single task or the launcher of a contiguous group of them, and so on down.
   */
  static ChildTask launcher(String app, SourceKind kind, String exchange, int index, List<ChildTask> tasks,
      int size) {
    if (tasks.size() <= size) {
      return ChildTask.launcher(app, kind, exchange, index, tasks);
    }
    List<ChildTask> children = new ArrayList<>();
    List<List<ChildTask>> groups = split(tasks, size);
    for (int g = 0; g < groups.size(); g++) {
      List<ChildTask> group = groups.get(g);
      children.add(group.size() == 1 ? group.get(0) : launcher(app, kind, exchange, g, group, size));
    }
    return ChildTask.launcher(app, kind, exchange, index, children);
  }

  /** {@code items} cut into min(size, ⌈n / size⌉) contiguous groups whose sizes differ by one at most. */
  private static <T> List<List<T>> split(List<T> items, int size) {
    int n = items.size();
    int count = Math.max(1, Math.min(size, (n + size - 1) / size));
    List<List<T>> out = new ArrayList<>(count);
    int at = 0;
    for (int g = 0; g < count; g++) {
      int length = n / count + (g < n % count ? 1 : 0);
      out.add(items.subList(at, at + length));
      at += length;
    }
    return out;
  }

  /** The launchers of the tree under {@code node}, itself included (0 for a task that launches nothing). */
  static int launchers(ChildTask node) {
    if (node.role() != ChildTask.Role.LAUNCH) {
      return 0;
    }
    return 1 + node.launch().stream().mapToInt(InvokeTree::launchers).sum();
  }

  /** The tasks under {@code node} that launch nothing, in order ({@code node} itself if it is one). */
  static List<ChildTask> leaves(ChildTask node) {
    if (node.role() != ChildTask.Role.LAUNCH) {
      return List.of(node);
    }
    List<ChildTask> out = new ArrayList<>();
    node.launch().forEach(child -> out.addAll(leaves(child)));
    return out;
  }

  /**
   * What a launcher child does: starts each of its children through {@code invoker}, at most the invoker's
   * concurrency at once, waits for all, and returns the outcomes of every task under it (a child launcher's answer
   * flattened into its tasks' outcomes) as a JSON array in task order; {@code resultKey} gives a task's result key
   * when the answer would be too large.
   */
  public static String launch(ChildTask launcher, ChildInvoker invoker, Function<ChildTask, String> resultKey) {
    List<CompletableFuture<String>> running = start(launcher.launch(), invoker);
    ArrayNode answers = JSON.createArrayNode();
    long chars = 0;
    for (int i = 0; i < running.size(); i++) {
      ChildTask child = launcher.launch().get(i);
      String response;
      try {
        response = running.get(i).join();
      } catch (CompletionException | java.util.concurrent.CancellationException e) {
        String error = String.valueOf(e.getCause() == null ? e : e.getCause());
        for (int leaf = leaves(child).size(); leaf > 0; leaf--) {
          answers.addObject().put("error", error);
        }
        continue;
      }
      if (child.role() == ChildTask.Role.LAUNCH) {
        for (Outcome outcome : outcomes(response, leaves(child).size())) {
          ObjectNode answer = answers.addObject();
          if (outcome.response() != null) {
            answer.put("response", outcome.response());
            chars += outcome.response().length();
          } else {
            answer.put("error", outcome.error());
          }
        }
      } else {
        answers.addObject().put("response", response);
        chars += response.length();
      }
    }
    if (chars > MAX_RESPONSE_CHARS) {
      List<ChildTask> tasks = leaves(launcher);
      for (int i = 0; i < answers.size(); i++) {
        ObjectNode answer = (ObjectNode) answers.get(i);
        if (answer.has("response")) {
          answer.put("response", "{\"resultKey\":\"" + resultKey.apply(tasks.get(i)) + "\"}");
        }
      }
    }
    return answers.toString();
  }

  /**
   * Starts {@code children} through {@code invoker}, at most its concurrency at once (a child is started as soon as
   * an earlier one answers); returns their futures, in order.
   */
  private static List<CompletableFuture<String>> start(List<ChildTask> children, ChildInvoker invoker) {
    Semaphore slots = new Semaphore(Math.max(1, invoker.concurrency()));
    List<CompletableFuture<String>> running = new ArrayList<>(children.size());
    for (ChildTask child : children) {
      slots.acquireUninterruptibly();
      CompletableFuture<String> one;
      try {
        one = invoker.invoke(child);
      } catch (RuntimeException e) {
        one = CompletableFuture.failedFuture(e);
      }
      running.add(one.whenComplete((response, error) -> slots.release()));
    }
    return running;
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
