package io.spindrift.examples;

import java.io.PrintWriter;
import java.util.Locale;
import me.tongfei.progressbar.ConsoleProgressBarConsumer;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;

/**
 * The demo's progress on one task (events produced, events committed). On a terminal it is a progress bar redrawn
 * in place (me.tongfei:progressbar) with rate and ETA; otherwise (output redirected: {@code System.console()} is
 * null) it prints plain lines, at most one per quarter of the task and one every few seconds, then the end, with no
 * terminal control characters, so a log of the demo stays short and readable.
 */
abstract class DemoProgress implements AutoCloseable {
  /**
   * Progress of {@code task} to {@code total} units.
   *
   * @param interactive true for a redrawn bar on {@code terminal} (it must be a terminal)
   * @param terminal where the demo prints
   */
  static DemoProgress start(String task, String unit, long total, boolean interactive, java.io.PrintStream terminal,
      PrintWriter lines) {
    return interactive ? new Bar(task, unit, total, terminal) : new Lines(task, unit, total, lines, Lines.GAP_MS);
  }

  /** True when the demo's output is a terminal. */
  static boolean onTerminal() {
    return System.console() != null;
  }

  /** {@code done} units so far; {@code note} a short remark shown beside it (e.g. invocations), or empty. */
  abstract void update(long done, String note);

  /** Ends the display; the last update stays visible. */
  @Override
  public abstract void close();

  private static final class Bar extends DemoProgress {
    private final ProgressBar bar;

    Bar(String task, String unit, long total, java.io.PrintStream terminal) {
      bar = new ProgressBarBuilder().setTaskName(task).setInitialMax(total).setStyle(ProgressBarStyle.ASCII)
          .setUnit(" " + unit, 1).showSpeed().setUpdateIntervalMillis(250)
          .setConsumer(new ConsoleProgressBarConsumer(terminal)).build();
    }

    @Override
    void update(long done, String note) {
      bar.stepTo(done);
      bar.setExtraMessage(note.isEmpty() ? "" : ", " + note);
    }

    @Override
    public void close() {
      bar.close();
    }
  }

  /**
   * Plain lines: the first update of each new quarter of the task when at least {@code gapMs} have passed since the
   * previous line (a quick task prints only its end), and the last update.
   */
  static final class Lines extends DemoProgress {
    static final long GAP_MS = 5000;
    private final String task;
    private final String unit;
    private final long total;
    private final PrintWriter out;
    private final long gapMs;
    private final long startMs = System.currentTimeMillis();
    private long lastPrintMs = startMs;
    private int quartersShown;
    private boolean ended;
    private long lastDone = -1;
    private String lastNote = "";

    Lines(String task, String unit, long total, PrintWriter out, long gapMs) {
      this.task = task;
      this.unit = unit;
      this.total = total;
      this.out = out;
      this.gapMs = gapMs;
    }

    @Override
    void update(long done, String note) {
      lastDone = done;
      lastNote = note;
      if (done >= total) {
        end();
        return;
      }
      int quarter = (int) (done * 4 / total);
      long now = System.currentTimeMillis();
      if (quarter > quartersShown && now - lastPrintMs >= gapMs) {
        quartersShown = quarter;
        lastPrintMs = now;
        print();
      }
    }

    private void end() {
      if (!ended && lastDone >= 0) {
        ended = true;
        print();
      }
    }

    private void print() {
      double seconds = Math.max(0.001, (System.currentTimeMillis() - startMs) / 1000.0);
      out.printf(Locale.ROOT, "  %s %,d / %,d %s (%d%%) in %.1f s, %,.0f %s/s%s%n", task, lastDone, total, unit,
          total <= 0 ? 100 : lastDone * 100 / total, seconds, lastDone / seconds, unit,
          lastNote.isEmpty() ? "" : ", " + lastNote);
      out.flush();
    }

    @Override
    public void close() {
      end();
    }
  }
}
