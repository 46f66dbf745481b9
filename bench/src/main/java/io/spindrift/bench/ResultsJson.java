package io.spindrift.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Writes a run as {@code bench-results.json}: the raw summaries, ratios, phases and target verdicts. */
final class ResultsJson {
  private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

  private ResultsJson() {}

  static void write(BenchResults results, Path file) throws IOException {
    Files.createDirectories(file.getParent());
    JSON.writeValue(file.toFile(), document(results));
  }

  static Map<String, Object> document(BenchResults results) {
    Map<String, Object> doc = new LinkedHashMap<>();
    doc.put("machine", results.machine());
    doc.put("command", results.command());
    doc.put("systems", TerminalReport.DESCRIPTIONS);
    Map<String, Object> warm = new LinkedHashMap<>();
    results.warm().forEach((system, bySize) -> {
      Map<String, Object> sizes = new LinkedHashMap<>();
      bySize.forEach((size, summary) -> {
        Map<String, Object> cell = summary(summary);
        cell.put("recordsPerSecond", number(results.throughput(system, size)));
        Map<String, Double> phases = results.phases().getOrDefault(system, Map.of()).getOrDefault(size, Map.of());
        cell.put("phaseMediansMs", rounded(phases));
        sizes.put(Integer.toString(size), cell);
      });
      warm.put(system, sizes);
    });
    doc.put("warmLatencyMs", warm);
    Map<String, Object> ratios = new LinkedHashMap<>();
    for (String peer : List.of(PlainRestarted.NAME, PlainLongRunning.NAME, PhysicalFloor.NAME)) {
      Map<String, Object> bySize = new LinkedHashMap<>();
      results.sizes().forEach(size -> bySize.put(Integer.toString(size),
          number(results.latencyRatio(SpindriftWarm.NAME, peer, size))));
      ratios.put("spindrift/" + peer, bySize);
    }
    for (String peer : List.of(PlainRestarted.NAME, PlainLongRunning.NAME)) {
      Map<String, Object> bySize = new LinkedHashMap<>();
      results.sizes().forEach(size -> bySize.put(Integer.toString(size),
          number(results.latencyRatio(SpindriftWarm.DEFERRED, peer, size))));
      ratios.put(SpindriftWarm.DEFERRED + "/" + peer, bySize);
    }
    doc.put("p50RatiosSpindriftOverPeer", ratios);
    Map<String, Object> chained = new LinkedHashMap<>();
    results.backToBack().forEach((system, summary) -> {
      Map<String, Object> cell = summary(summary);
      cell.put("ratioOverPlainRestarted",
          number(Summary.ratio(summary.p50(), results.backToBackP50(PlainRestarted.NAME))));
      chained.put(system, cell);
    });
    doc.put("backToBackMsPerInvocation", chained);
    Map<String, Object> cold = new LinkedHashMap<>();
    results.cold().forEach((variant, summary) -> {
      Map<String, Object> cell = summary(summary);
      cell.put("childSplitMediansMs", rounded(results.coldPhases().getOrDefault(variant, Map.of())));
      cold.put(variant, cell);
    });
    doc.put("coldStartMs", cold);
    doc.put("coldStartRatioSpindriftOverPlain",
        number(Summary.ratio(results.coldP50(Targets.COLD_SPINDRIFT), results.coldP50(Targets.COLD_PLAIN))));
    doc.put("coldStartRatioSpindriftAppCdsOverPlainAppCds",
        number(Summary.ratio(results.coldP50(Targets.COLD_SPINDRIFT_CDS), results.coldP50(Targets.COLD_PLAIN_CDS))));
    doc.put("coldStartRatioSpindriftAppCdsOverPlain",
        number(Summary.ratio(results.coldP50(Targets.COLD_SPINDRIFT_CDS), results.coldP50(Targets.COLD_PLAIN))));
    doc.put("notAvailable", results.unavailable());
    doc.put("rowChecks", results.rowChecks());
    doc.put("targets", Targets.evaluate(results).stream().map(t -> Map.of(
        "goal", t.goal(), "measured", t.measured(), "status", t.status().toString())).toList());
    return doc;
  }

  private static Map<String, Object> summary(Summary summary) {
    Map<String, Object> cell = new LinkedHashMap<>();
    cell.put("n", summary.count());
    cell.put("p50", number(summary.p50()));
    cell.put("p95", number(summary.p95()));
    cell.put("mean", number(summary.mean()));
    cell.put("min", number(summary.min()));
    cell.put("max", number(summary.max()));
    return cell;
  }

  private static Map<String, Object> rounded(Map<String, Double> values) {
    Map<String, Object> out = new LinkedHashMap<>();
    values.forEach((k, v) -> out.put(k, number(v)));
    return out;
  }

  /** JSON has no NaN: a figure that was not measured is null. */
  static Object number(double value) {
    if (Double.isNaN(value) || Double.isInfinite(value)) {
      return null;
    }
    return Math.round(value * 1000) / 1000.0;
  }
}
