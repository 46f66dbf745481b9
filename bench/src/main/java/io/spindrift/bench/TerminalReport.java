package io.spindrift.bench;

import java.util.List;
import java.util.Locale;
import java.util.Map;

/** The run's figures as a plain-text table: latencies, ratios computed pair by pair, phases, cold start, targets. */
final class TerminalReport {
  static final Map<String, String> DESCRIPTIONS = Map.of(
      SpindriftWarm.NAME, "KinesisHandler through InProcessInvoker, Clickstream job, Iceberg sink, exactly once",
      SpindriftWarm.DEFERRED, "as spindrift with SPINDRIFT_PUBLISH=deferred: responds after the commit; the bench"
          + " waits for its background publish, untimed, before the next system's batch",
      PlainRestarted.NAME, "plain Spark, a new query per batch: AvailableNow over a new MemoryStream, fresh checkpoint,"
          + " Iceberg streaming sink",
      PlainLongRunning.NAME, "plain Spark, one long-running query fed by a MemoryStream + processAllAvailable,"
          + " Iceberg streaming sink",
      PhysicalFloor.NAME, "plain Java: Jackson + HashMap, the same parse, count by page; no Spark, no I/O",
      Targets.STATEFUL, "Spindrift, windowed count (needs the DynamoDB state store)");
  private static final List<String> ROWS = List.of(SpindriftWarm.NAME, SpindriftWarm.DEFERRED, PlainRestarted.NAME,
      PlainLongRunning.NAME, PhysicalFloor.NAME, Targets.STATEFUL);
  private static final List<String> PEERS = List.of(PlainRestarted.NAME, PlainLongRunning.NAME, PhysicalFloor.NAME);

  private TerminalReport() {}

  static String render(BenchResults results) {
    StringBuilder out = new StringBuilder();
    List<Integer> sizes = results.sizes();
    line(out, "Spindrift benchmark  %s", results.machine().get("summary"));
    line(out, "command: %s", results.command());
    out.append('\n');
    header(out, "Warm latency, ms, p50 / p95 (n)", sizes);
    for (String system : ROWS) {
      if (!results.warm().containsKey(system)) {
        continue;
      }
      StringBuilder row = new StringBuilder(String.format(Locale.ROOT, "  %-20s", system));
      for (int size : sizes) {
        Summary s = results.warm().getOrDefault(system, Map.of()).get(size);
        String cell = s == null ? "-" : ms(s.p50()) + " / " + ms(s.p95()) + " (" + s.count() + ")";
        row.append(String.format(Locale.ROOT, " %19s", cell));
      }
      out.append(row).append('\n');
    }
    results.unavailable().forEach((row, reason) -> {
      if (!row.startsWith("cold")) {
        line(out, "  %-20s %s", row, reason);
      }
    });
    out.append('\n');
    header(out, "Ratio of p50s, Spindrift / peer (< 1: Spindrift faster)", sizes);
    for (String peer : PEERS) {
      StringBuilder row = new StringBuilder(String.format(Locale.ROOT, "  / %-18s", peer));
      for (int size : sizes) {
        row.append(String.format(Locale.ROOT, " %19s", ratio(results.latencyRatio(SpindriftWarm.NAME, peer, size))));
      }
      out.append(row).append('\n');
    }
    if (results.warm().containsKey(SpindriftWarm.DEFERRED)) {
      for (String peer : List.of(PlainRestarted.NAME, PlainLongRunning.NAME)) {
        StringBuilder row = new StringBuilder(String.format(Locale.ROOT, "  deferred / %-11s", shortName(peer)));
        for (int size : sizes) {
          row.append(String.format(Locale.ROOT, " %19s",
              ratio(results.latencyRatio(SpindriftWarm.DEFERRED, peer, size))));
        }
        out.append(row).append('\n');
      }
    }
    if (results.warm().containsKey(Targets.STATEFUL)) {
      StringBuilder row = new StringBuilder(String.format(Locale.ROOT, "  %-20s", "stateful / stateless"));
      for (int size : sizes) {
        row.append(String.format(Locale.ROOT, " %19s",
            ratio(results.latencyRatio(Targets.STATEFUL, SpindriftWarm.NAME, size))));
      }
      out.append(row).append('\n');
    }
    out.append('\n');
    results.rowChecks().forEach((system, check) -> line(out, "  row check %-18s %s", system, check));
    throughput(out, results, sizes.get(sizes.size() - 1));
    backToBack(out, results);
    phases(out, results, SpindriftWarm.NAME, 1000);
    phases(out, results, SpindriftWarm.DEFERRED, 1000);
    phases(out, results, Targets.STATEFUL, 1000);
    phases(out, results, PlainRestarted.NAME, 1000);
    cold(out, results);
    out.append('\n').append("Targets (DESIGN §12)\n");
    for (Targets.Target target : Targets.evaluate(results)) {
      line(out, "  %-8s %-62s %s", target.status(), target.goal(), target.measured());
    }
    out.append('\n').append("Systems:\n");
    for (String system : ROWS) {
      line(out, "  %-20s %s", system, DESCRIPTIONS.get(system));
    }
    return out.toString();
  }

  private static void throughput(StringBuilder out, BenchResults results, int size) {
    out.append('\n');
    line(out, "Throughput at %,d records per batch (from p50), records/s", size);
    double spindrift = results.throughput(SpindriftWarm.NAME, size);
    for (String system : ROWS) {
      if (!results.warm().containsKey(system)) {
        continue;
      }
      double value = results.throughput(system, size);
      String ratio = system.equals(SpindriftWarm.NAME) ? ""
          : "   Spindrift / this: " + ratio(Summary.ratio(spindrift, value));
      String rate = Double.isNaN(value) ? "-" : String.format(Locale.ROOT, "%,.0f", value);
      line(out, "  %-20s %12s%s", system, rate, ratio);
    }
  }

  private static String shortName(String peer) {
    return peer.equals(PlainRestarted.NAME) ? "restarted" : "long-run";
  }

  private static void backToBack(StringBuilder out, BenchResults results) {
    if (results.backToBack().isEmpty()) {
      return;
    }
    out.append('\n');
    line(out, "Back to back: chains of consecutive %,d-record batches, first batch in -> last batch's rows in the"
        + " table, ms per invocation, p50 (chains)", BenchResults.CHAIN_SIZE);
    double restarted = results.backToBackP50(PlainRestarted.NAME);
    results.backToBack().forEach((system, summary) -> {
      String ratio = system.equals(PlainRestarted.NAME) ? ""
          : "   / plain-restarted: " + ratio(Summary.ratio(summary.p50(), restarted));
      line(out, "  %-20s %8s (%d)%s", system, ms(summary.p50()), summary.count(), ratio);
    });
  }

  private static void phases(StringBuilder out, BenchResults results, String system, int size) {
    Map<String, Double> phases = results.phases().getOrDefault(system, Map.of()).get(size);
    if (phases == null || phases.isEmpty()) {
      return;
    }
    out.append('\n');
    line(out, "Where the time goes: %s, %,d records, median ms per phase (p50 total %s)", system, size,
        ms(results.p50(system, size)));
    StringBuilder raw = new StringBuilder();
    phases.forEach((phase, median) -> {
      if (phase.startsWith(PhaseBreakdown.RAW)) {
        raw.append(raw.length() == 0 ? "" : ", ").append(phase.substring(PhaseBreakdown.RAW.length()))
            .append(' ').append(ms(median));
      } else {
        line(out, "  %-30s %8s", phase, ms(median));
      }
    });
    if (raw.length() > 0) {
      line(out, "  (BatchOutcome.timingsMs medians, as the runtime logs them: %s)", raw);
    }
  }

  private static void cold(StringBuilder out, BenchResults results) {
    out.append('\n');
    line(out, "Cold start: new JVM -> first batch committed, s, p50 (n)  [child's split: jvm->main, main->committed]");
    results.cold().forEach((variant, summary) -> {
      Map<String, Double> split = results.coldPhases().getOrDefault(variant, Map.of());
      line(out, "  %-34s %6s (%d)   [%s, %s]", variant, seconds(summary.p50()), summary.count(),
          seconds(split.getOrDefault(ColdStart.JVM_TO_MAIN, Double.NaN)),
          seconds(split.getOrDefault(ColdStart.MAIN_TO_COMMITTED, Double.NaN)));
      StringBuilder detail = new StringBuilder();
      split.forEach((phase, ms) -> {
        if (!phase.equals(ColdStart.JVM_TO_MAIN) && !phase.equals(ColdStart.MAIN_TO_COMMITTED)) {
          detail.append(detail.length() == 0 ? "" : ", ").append(phase).append(' ').append(seconds(ms));
        }
      });
      if (detail.length() > 0) {
        line(out, "      %s", detail);
      }
    });
    results.unavailable().forEach((row, reason) -> {
      if (row.startsWith("cold")) {
        line(out, "  %-34s %s", row.substring("cold ".length()), reason);
      }
    });
    line(out, "  ratio spindrift / plain-spark (Lambda flags, no archive)       %s",
        ratio(Summary.ratio(results.coldP50(Targets.COLD_SPINDRIFT), results.coldP50(Targets.COLD_PLAIN))));
    line(out, "  ratio spindrift + AppCDS / plain-spark + AppCDS                %s",
        ratio(Summary.ratio(results.coldP50(Targets.COLD_SPINDRIFT_CDS), results.coldP50(Targets.COLD_PLAIN_CDS))));
    line(out, "  ratio spindrift + AppCDS / plain-spark (no archive)            %s",
        ratio(Summary.ratio(results.coldP50(Targets.COLD_SPINDRIFT_CDS), results.coldP50(Targets.COLD_PLAIN))));
  }

  private static void header(StringBuilder out, String title, List<Integer> sizes) {
    StringBuilder row = new StringBuilder(String.format(Locale.ROOT, "%-22s", title.length() > 22 ? "" : title));
    if (title.length() > 22) {
      out.append(title).append('\n');
    }
    for (int size : sizes) {
      row.append(String.format(Locale.ROOT, " %19s", String.format(Locale.ROOT, "%,d rec", size)));
    }
    out.append(row).append('\n');
  }

  static String ms(double millis) {
    if (Double.isNaN(millis)) {
      return "-";
    }
    return millis < 10 ? String.format(Locale.ROOT, "%.3f", millis) : String.format(Locale.ROOT, "%,.0f", millis);
  }

  static String seconds(double millis) {
    return Double.isNaN(millis) ? "-" : String.format(Locale.ROOT, "%.2f", millis / 1000);
  }

  static String ratio(double ratio) {
    if (Double.isNaN(ratio)) {
      return "-";
    }
    return ratio < 10 ? String.format(Locale.ROOT, "%.2fx", ratio) : String.format(Locale.ROOT, "%,.0fx", ratio);
  }

  private static void line(StringBuilder out, String format, Object... args) {
    out.append(String.format(Locale.ROOT, format, args)).append('\n');
  }
}
