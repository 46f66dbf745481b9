package io.spindrift.replay;

import java.io.PrintStream;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import me.tongfei.progressbar.InteractiveConsoleProgressBarConsumer;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;

/**
 * Progress bars on stderr: one per running lane and one overall, each with its rate and ETA. A lane whose size the
 * source knows (Kafka) counts records; a Kinesis lane counts seconds of stream time between its first record and
 * the range's end. The overall bar counts lanes' fractions done, so its ETA covers every lane. Without bars (not a
 * terminal, or {@code --no-progress}) one line is printed as each lane finishes.
 */
final class ProgressDisplay implements AutoCloseable {
  private static final int SCALE = 1000;
  private final boolean bars;
  private final PrintStream err;
  private final long endMs;
  private final Map<String, Lane> lanes = new ConcurrentHashMap<>();
  private final ProgressBar overall;

  ProgressDisplay(boolean bars, PrintStream err, int laneCount, long endMs) {
    this.bars = bars;
    this.err = err;
    this.endMs = endMs;
    this.overall = bars ? builder("overall").setInitialMax((long) laneCount * SCALE)
        .setUnit("%", (long) laneCount * SCALE / 100).build() : null;
  }

  private ProgressBarBuilder builder(String name) {
    return new ProgressBarBuilder().setTaskName(name).setStyle(ProgressBarStyle.ASCII).showSpeed()
        // the interactive consumer keeps each bar on its own line of the terminal (several lanes at once)
        .setConsumer(new InteractiveConsoleProgressBarConsumer(err)).setUpdateIntervalMillis(500);
  }

  void laneStarted(LanePlan plan, long alreadyRead) {
    ProgressBar bar = null;
    if (bars) {
      bar = plan.knownRecords() >= 0
          ? builder(plan.lane()).setInitialMax(plan.knownRecords()).setUnit(" rec", 1).build()
          : builder(plan.lane()).setInitialMax(-1).setUnit(" s", 1000).build();
      bar.stepTo(Math.min(alreadyRead, Math.max(0, plan.knownRecords())));
    }
    lanes.put(plan.lane(), new Lane(plan, bar));
  }

  /** A lane an earlier run of this replay finished. */
  void laneAlreadyDone() {
    if (overall != null) {
      overall.stepBy(SCALE);
    }
  }

  /** {@code read} records so far in the lane, the last one written at {@code lastArrivalMs}. */
  void advanced(String laneName, long read, long firstArrivalMs, long lastArrivalMs) {
    Lane lane = lanes.get(laneName);
    if (lane == null || lane.bar == null) {
      return;
    }
    double fraction;
    if (lane.plan.knownRecords() >= 0) {
      lane.bar.stepTo(read);
      fraction = lane.plan.knownRecords() == 0 ? 1 : (double) read / lane.plan.knownRecords();
    } else {
      long span = Math.max(1, Math.max(endMs, lastArrivalMs) - firstArrivalMs);
      lane.bar.maxHint(span);
      lane.bar.stepTo(lastArrivalMs - firstArrivalMs);
      lane.bar.setExtraMessage(read + " rec");
      fraction = (double) (lastArrivalMs - firstArrivalMs) / span;
    }
    lane.reportOverall(Math.min(SCALE, (long) (fraction * SCALE)));
  }

  void laneFinished(String laneName, ReplayCounts counts) {
    Lane lane = lanes.remove(laneName);
    if (lane != null && lane.bar != null) {
      lane.bar.maxHint(Math.max(lane.bar.getCurrent(), 0));
      lane.bar.close();
      lane.reportOverall(SCALE);
    } else if (!bars) {
      err.printf("%s: done, %d read, %d committed, %d duplicates dropped%n", laneName, counts.get("read"),
          counts.get("committed"), counts.get("duplicates"));
    }
  }

  @Override
  public void close() {
    lanes.values().forEach(lane -> {
      if (lane.bar != null) {
        lane.bar.close();
      }
    });
    if (overall != null) {
      overall.close();
    }
  }

  private final class Lane {
    private final LanePlan plan;
    private final ProgressBar bar;
    private long reported;

    Lane(LanePlan plan, ProgressBar bar) {
      this.plan = plan;
      this.bar = bar;
    }

    synchronized void reportOverall(long permille) {
      if (overall != null && permille > reported) {
        overall.stepBy(permille - reported);
        reported = permille;
      }
    }
  }
}
