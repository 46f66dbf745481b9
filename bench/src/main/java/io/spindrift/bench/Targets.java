package io.spindrift.bench;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/** The performance targets of DESIGN §12, checked against one run's figures. */
final class Targets {
  static final String COLD_SPINDRIFT = "spindrift";
  static final String COLD_PLAIN = "plain-spark";
  static final String COLD_SPINDRIFT_CDS = "spindrift + AppCDS";
  static final String COLD_PLAIN_CDS = "plain-spark + AppCDS";
  static final String STATEFUL = "spindrift-stateful";

  enum Status { MET, NOT_MET, NOT_AVAILABLE;

    @Override
    public String toString() {
      return switch (this) {
        case MET -> "MET";
        case NOT_MET -> "NOT MET";
        case NOT_AVAILABLE -> "n/a";
      };
    }
  }

  /** One target: what it asks, what was measured, and whether that meets it. */
  record Target(String goal, String measured, Status status) {}

  private Targets() {}

  static List<Target> evaluate(BenchResults results) {
    List<Target> targets = new ArrayList<>();
    double warm = results.p50(SpindriftWarm.NAME, 1000);
    targets.add(atMost("warm 1,000-record stateless p50 <= 250 ms", warm, 250, "%.0f ms"));
    double restartedRatio = results.latencyRatio(SpindriftWarm.NAME, PlainRestarted.NAME, 1000);
    targets.add(atMost("warm 1,000 p50 <= 0.5x plain query restarted per batch", restartedRatio, 0.5, "%.2fx"));
    double deferred = results.latencyRatio(SpindriftWarm.DEFERRED, PlainRestarted.NAME, 1000);
    targets.add(atMost("  the same with SPINDRIFT_PUBLISH=deferred (publish after the response)", deferred, 0.5,
        "%.2fx"));
    double chained = Summary.ratio(results.backToBackP50(SpindriftWarm.DEFERRED),
        results.backToBackP50(PlainRestarted.NAME));
    targets.add(atMost("  deferred, back to back (the publish paid inside the chain)", chained, 0.5, "%.2fx"));
    double throughput = results.throughput(SpindriftWarm.NAME, 10_000);
    targets.add(throughput(throughput));
    String statefulGoal = "stateful (windowed count) p50 within 1.5x stateless at 10,000";
    double stateful = results.latencyRatio(STATEFUL, SpindriftWarm.NAME, 10_000);
    String gap = results.unavailable().get(STATEFUL);
    targets.add(Double.isNaN(stateful) && gap != null ? new Target(statefulGoal, gap, Status.NOT_AVAILABLE)
        : atMost(statefulGoal, stateful, 1.5, "%.2fx"));
    double cold = results.coldP50(COLD_SPINDRIFT_CDS);
    targets.add(atMost("cold start (new JVM -> first batch committed) <= 5 s, Lambda flags + AppCDS", cold / 1000, 5,
        "%.1f s"));
    double coldPlain = results.coldP50(COLD_SPINDRIFT);
    targets.add(atMost("  without the archive", coldPlain / 1000, 5, "%.1f s"));
    double coldRatio = Summary.ratio(cold, results.coldP50(COLD_PLAIN));
    targets.add(atMost("cold start <= 0.5x plain Spark's (+AppCDS vs none, Lambda flags)", coldRatio, 0.5, "%.2fx"));
    double sameFooting = Summary.ratio(cold, results.coldP50(COLD_PLAIN_CDS));
    targets.add(atMost("  both with an AppCDS archive", sameFooting, 0.5, "%.2fx"));
    return targets;
  }

  private static Target throughput(double recordsPerSecond) {
    String goal = "10,000-record batch >= 25,000 records/s";
    if (Double.isNaN(recordsPerSecond)) {
      return new Target(goal, "not measured", Status.NOT_AVAILABLE);
    }
    return new Target(goal, String.format(Locale.ROOT, "%,.0f records/s", recordsPerSecond),
        recordsPerSecond >= 25_000 ? Status.MET : Status.NOT_MET);
  }

  static Target atMost(String goal, double measured, double limit, String format) {
    if (Double.isNaN(measured)) {
      return new Target(goal, "not measured", Status.NOT_AVAILABLE);
    }
    String value = String.format(Locale.ROOT, format, measured);
    return new Target(goal, value, measured <= limit ? Status.MET : Status.NOT_MET);
  }
}
