package io.spindrift.bench;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Consumer;

/**
 * Runs the warm systems side by side: per batch size, warm-up batches for each, then timed repetitions in
 * which every system processes the same batch, in an order that rotates each repetition, so drifting noise on a
 * shared machine falls on all systems alike and the ratios compare like with like. A system that fails is
 * dropped from the rest of the run and reported as not measured, with its error; the others carry on.
 */
final class WarmComparison {
  /** Latency summaries and phase medians by system then batch size, records sent and failures by system. */
  record Outcome(Map<String, Map<Integer, Summary>> summaries, Map<String, Map<Integer, Map<String, Double>>> phases,
      Map<String, Long> records, Map<String, String> failures) {}

  private WarmComparison() {}

  static Outcome run(List<WarmSystem> all, ClickCorpus corpus, BenchOptions options, Consumer<String> progress) {
    Map<String, Map<Integer, Summary>> summaries = new LinkedHashMap<>();
    Map<String, Map<Integer, Map<String, Double>>> phases = new LinkedHashMap<>();
    Map<String, Long> records = new LinkedHashMap<>();
    Map<String, String> failures = new LinkedHashMap<>();
    List<WarmSystem> systems = new ArrayList<>(all);
    for (WarmSystem system : all) {
      attempt(system, () -> system.prime(corpus), systems, failures, progress);
    }
    long cursor = 0;
    for (int size : options.sizes()) {
      for (WarmSystem system : List.copyOf(systems)) {
        for (int i = 0; i < options.warmup() && systems.contains(system); i++) {
          var batch = corpus.batch(cursor, size);
          cursor += size;
          if (attempt(system, () -> {
            system.run(batch);
            system.settle();
          }, systems, failures, progress)) {
            records.merge(system.name(), (long) size, Long::sum);
          }
        }
      }
      Map<String, List<WarmSystem.Trial>> trials = new LinkedHashMap<>();
      systems.forEach(s -> trials.put(s.name(), new ArrayList<>()));
      for (int rep = 0; rep < options.repsFor(size); rep++) {
        var batch = corpus.batch(cursor, size);
        cursor += size;
        List<WarmSystem> order = List.copyOf(systems);
        for (int k = 0; k < order.size(); k++) {
          WarmSystem system = order.get((rep + k) % order.size());
          List<WarmSystem.Trial> into = trials.get(system.name());
          if (attempt(system, () -> {
            into.add(system.run(batch));
            system.settle();
          }, systems, failures, progress)) {
            records.merge(system.name(), (long) size, Long::sum);
          }
        }
      }
      StringBuilder line = new StringBuilder(String.format(Locale.ROOT, "%,d records:", size));
      for (WarmSystem system : systems) {
        List<WarmSystem.Trial> list = trials.get(system.name());
        Summary summary = Summary.of(list.stream().map(WarmSystem.Trial::millis).toList());
        summaries.computeIfAbsent(system.name(), k -> new LinkedHashMap<>()).put(size, summary);
        phases.computeIfAbsent(system.name(), k -> new LinkedHashMap<>()).put(size, phaseMedians(list));
        line.append(String.format(Locale.ROOT, " %s p50 %s ms;", system.name(), TerminalReport.ms(summary.p50())));
      }
      progress.accept(line.toString());
    }
    return new Outcome(summaries, phases, records, failures);
  }

  /** Per-invocation milliseconds of back-to-back chains by system, records sent by system, failures by system. */
  record Sustained(Map<String, Summary> perInvocation, Map<String, Long> records, Map<String, String> failures) {}

  /**
   * Sustained load: per repetition, each system (in rotating order) gets a chain of {@code length} consecutive
   * batches of {@code size} records with nothing in between, timed from the first batch in until the last batch's
   * rows are in the table. A publish deferred past one response then overlaps the next invocation, as it does in a
   * Lambda container (frozen between invocations, thawed by the next one), and is paid for inside the chain.
   */
  static Sustained chains(List<WarmSystem> systems, ClickCorpus corpus, long cursorStart, int size, int length,
      int chains, Consumer<String> progress) {
    Map<String, List<Double>> samples = new LinkedHashMap<>();
    Map<String, Long> records = new LinkedHashMap<>();
    Map<String, String> failures = new LinkedHashMap<>();
    List<WarmSystem> running = new ArrayList<>(systems);
    long cursor = cursorStart;
    for (int rep = 0; rep < chains + 1; rep++) {
      List<List<io.spindrift.examples.ClickstreamGenerator.Event>> batches = new ArrayList<>();
      for (int i = 0; i < length; i++) {
        batches.add(corpus.batch(cursor, size));
        cursor += size;
      }
      List<WarmSystem> order = List.copyOf(running);
      for (int k = 0; k < order.size(); k++) {
        WarmSystem system = order.get((rep + k) % order.size());
        boolean warmUp = rep == 0;
        if (attempt(system, () -> {
          double millis = system.chain(batches);
          if (!warmUp) {
            samples.computeIfAbsent(system.name(), n -> new ArrayList<>()).add(millis / length);
          }
        }, running, failures, progress)) {
          records.merge(system.name(), (long) size * length, Long::sum);
        }
      }
    }
    Map<String, Summary> perInvocation = new LinkedHashMap<>();
    StringBuilder line = new StringBuilder(String.format(Locale.ROOT, "back to back, %d x %,d records:", length, size));
    for (WarmSystem system : running) {
      Summary summary = Summary.of(samples.getOrDefault(system.name(), List.of()));
      perInvocation.put(system.name(), summary);
      line.append(String.format(Locale.ROOT, " %s %s ms/invocation;", system.name(), TerminalReport.ms(summary.p50())));
    }
    progress.accept(line.toString());
    return new Sustained(perInvocation, records, failures);
  }

  private interface Step {
    void run() throws Exception;
  }

  /** Runs one step of {@code system}; on failure drops the system and records why. Returns true on success. */
  private static boolean attempt(WarmSystem system, Step step, List<WarmSystem> systems, Map<String, String> failures,
      Consumer<String> progress) {
    try {
      step.run();
      return true;
    } catch (Exception e) {
      systems.remove(system);
      String reason = "n/a (failed: " + e + ")";
      failures.put(system.name(), reason);
      progress.accept(system.name() + " failed and is left out of the rest of the run: " + e);
      e.printStackTrace();
      return false;
    }
  }

  /** The median of each phase over the trials (medians of parts need not add up to the median of the whole). */
  static Map<String, Double> phaseMedians(List<WarmSystem.Trial> trials) {
    Map<String, List<Double>> byPhase = new LinkedHashMap<>();
    for (WarmSystem.Trial trial : trials) {
      trial.phases().forEach((phase, ms) -> byPhase.computeIfAbsent(phase, k -> new ArrayList<>()).add(ms));
    }
    Map<String, Double> medians = new LinkedHashMap<>();
    byPhase.forEach((phase, values) -> medians.put(phase, Summary.median(values)));
    return medians;
  }
}
