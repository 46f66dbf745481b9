package io.spindrift.bench;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import javax.imageio.ImageIO;

/**
 * Draws latency against batch size, one line per system: p50 as the line and its markers, p95 as a whisker. The
 * left panel is log-log with every system (the floor is orders of magnitude below Spark); the right one zooms
 * on the Spark-based systems with a linear latency axis. DESIGN §12's warm 1,000-record target is a star.
 * Plain java.awt, headless.
 */
final class LatencyChart {
  private static final int WIDTH = 1200;
  private static final int HEIGHT = 700;
  private static final int TOP = 80;
  private static final int PLOT_BOTTOM = 540;
  private static final int TARGET_SIZE = 1000;
  private static final double TARGET_MS = 250;
  private static final Color[] COLORS = {new Color(0xD6, 0x27, 0x28), new Color(0x1F, 0x77, 0xB4),
      new Color(0x2C, 0xA0, 0x2C), new Color(0x7F, 0x7F, 0x7F), new Color(0x94, 0x67, 0xBD),
      new Color(0xFF, 0x7F, 0x0E)};
  private static final Color GRID = new Color(0xE3, 0xE3, 0xE3);

  private LatencyChart() {}

  static void draw(BenchResults results, List<String> systems, Path file) throws IOException {
    BufferedImage image = new BufferedImage(WIDTH, HEIGHT, BufferedImage.TYPE_INT_RGB);
    Graphics2D g = image.createGraphics();
    g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
    g.setRenderingHint(RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
    g.setColor(Color.WHITE);
    g.fillRect(0, 0, WIDTH, HEIGHT);
    g.setColor(Color.BLACK);
    g.setFont(new Font(Font.SANS_SERIF, Font.BOLD, 18));
    g.drawString("Warm latency per batch vs records per batch (line: p50, whisker: p95)", 80, 32);
    g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 12));
    g.setColor(Color.DARK_GRAY);
    g.drawString(String.valueOf(results.machine().getOrDefault("summary", "")) + "   " + results.command(), 80, 52);

    List<String> sparkSystems = systems.stream().filter(s -> !s.equals(PhysicalFloor.NAME)).toList();
    Panel all = new Panel(80, 560, true, logRange(results, systems), "all systems, log scale", results.sizes());
    Panel spark = new Panel(680, 1160, false, linearRange(results, sparkSystems), "Spark-based systems, linear scale",
        results.sizes());
    for (Panel panel : List.of(all, spark)) {
      panel.frame(g);
      for (int i = systems.size() - 1; i >= 0; i--) {
        if (panel == all || sparkSystems.contains(systems.get(i))) {
          panel.series(g, results, systems.get(i), COLORS[i % COLORS.length]);
        }
      }
      panel.target(g);
    }
    legend(g, systems);
    g.dispose();
    Files.createDirectories(file.getParent());
    ImageIO.write(image, "png", file.toFile());
  }

  /** log10(ms) from a whole decade below every p50 to a half decade above every p95 and the target. */
  private static double[] logRange(BenchResults results, List<String> systems) {
    double[] range = extremes(results, systems);
    double low = Math.floor(Math.log10(Math.min(range[0], TARGET_MS)));
    double high = Math.ceil((Math.log10(Math.max(range[1], TARGET_MS)) + 0.1) * 2) / 2;
    return new double[] {low, Math.max(high, low + 1)};
  }

  /** Zero to a round value above every p95 and the target. */
  private static double[] linearRange(BenchResults results, List<String> systems) {
    double max = Math.max(extremes(results, systems)[1], TARGET_MS) * 1.08;
    double step = Math.pow(10, Math.floor(Math.log10(max)));
    return new double[] {0, Math.ceil(max / (step / 2)) * (step / 2)};
  }

  private static double[] extremes(BenchResults results, List<String> systems) {
    double min = Double.MAX_VALUE;
    double max = 1;
    for (String system : systems) {
      for (Summary s : results.warm().getOrDefault(system, Map.of()).values()) {
        if (!s.isEmpty() && s.p50() > 0) {
          min = Math.min(min, s.p50());
          max = Math.max(max, s.p95());
        }
      }
    }
    return new double[] {min == Double.MAX_VALUE ? 1 : min, max};
  }

  /** One plot area: x is always log10(records), y log10(ms) or linear ms. */
  private record Panel(int left, int right, boolean logY, double[] yRange, String title, List<Integer> sizes) {
    int x(double records) {
      double min = Math.log10(sizes.get(0));
      double max = Math.log10(Math.max(sizes.get(sizes.size() - 1), sizes.get(0) * 10));
      return left + (int) Math.round((Math.log10(records) - min) / (max - min) * (right - left));
    }

    int y(double millis) {
      double value = logY ? Math.log10(Math.max(millis, 1e-9)) : millis;
      double fraction = (value - yRange[0]) / (yRange[1] - yRange[0]);
      return PLOT_BOTTOM - (int) Math.round(Math.max(0, Math.min(1, fraction)) * (PLOT_BOTTOM - TOP));
    }

    void frame(Graphics2D g) {
      g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 12));
      for (double tick : ticks()) {
        int y = y(tick);
        g.setColor(GRID);
        g.drawLine(left, y, right, y);
        g.setColor(Color.DARK_GRAY);
        String label = label(tick);
        g.drawString(label, left - 8 - g.getFontMetrics().stringWidth(label), y + 4);
      }
      for (int size : sizes) {
        int x = x(size);
        g.setColor(GRID);
        g.drawLine(x, TOP, x, PLOT_BOTTOM);
        g.setColor(Color.DARK_GRAY);
        String label = String.format(Locale.ROOT, "%,d", size);
        g.drawString(label, x - g.getFontMetrics().stringWidth(label) / 2, PLOT_BOTTOM + 18);
      }
      g.setColor(Color.BLACK);
      g.drawRect(left, TOP, right - left, PLOT_BOTTOM - TOP);
      g.setFont(new Font(Font.SANS_SERIF, Font.BOLD, 13));
      g.drawString(title, left, TOP - 8);
      g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 13));
      String xLabel = "records per batch (log scale)";
      g.drawString(xLabel, (left + right - g.getFontMetrics().stringWidth(xLabel)) / 2, PLOT_BOTTOM + 38);
    }

    private List<Double> ticks() {
      List<Double> ticks = new ArrayList<>();
      if (logY) {
        for (int decade = (int) yRange[0]; decade <= (int) yRange[1]; decade++) {
          ticks.add(Math.pow(10, decade));
        }
      } else {
        double step = niceStep((yRange[1] - yRange[0]) / 6);
        for (double v = yRange[0]; v <= yRange[1] + 1e-9; v += step) {
          ticks.add(v);
        }
      }
      return ticks;
    }

    private static double niceStep(double rough) {
      double magnitude = Math.pow(10, Math.floor(Math.log10(rough)));
      for (double factor : new double[] {1, 2, 2.5, 5, 10}) {
        if (factor * magnitude >= rough) {
          return factor * magnitude;
        }
      }
      return 10 * magnitude;
    }

    private static String label(double millis) {
      if (millis >= 1000) {
        return String.format(Locale.ROOT, "%,.2f", millis / 1000).replaceAll("\\.?0+$", "") + " s";
      }
      if (millis >= 1 || millis == 0) {
        return String.format(Locale.ROOT, "%.0f ms", millis);
      }
      return String.format(Locale.ROOT, "%s ms", String.format(Locale.ROOT, "%.6f", millis).replaceAll("0+$", ""));
    }

    void series(Graphics2D g, BenchResults results, String system, Color color) {
      Map<Integer, Summary> bySize = results.warm().getOrDefault(system, Map.of());
      List<int[]> points = new ArrayList<>();
      g.setColor(color);
      for (int size : results.sizes()) {
        Summary s = bySize.get(size);
        if (s != null && !s.isEmpty() && s.p50() > 0) {
          int x = x(size);
          points.add(new int[] {x, y(s.p50())});
          g.setStroke(new BasicStroke(1.5f));
          g.drawLine(x, y(s.p50()), x, y(s.p95()));
          g.drawLine(x - 5, y(s.p95()), x + 5, y(s.p95()));
        }
      }
      g.setStroke(new BasicStroke(2.5f));
      for (int i = 1; i < points.size(); i++) {
        g.drawLine(points.get(i - 1)[0], points.get(i - 1)[1], points.get(i)[0], points.get(i)[1]);
      }
      for (int[] p : points) {
        g.fillOval(p[0] - 5, p[1] - 5, 10, 10);
      }
      g.setStroke(new BasicStroke(1f));
    }

    void target(Graphics2D g) {
      if (!sizes.contains(TARGET_SIZE)) {
        return;
      }
      int x = x(TARGET_SIZE);
      int y = y(TARGET_MS);
      g.setColor(Color.BLACK);
      g.setFont(new Font(Font.SANS_SERIF, Font.BOLD, 20));
      g.drawString("\u2605", x - 8, y + 7);
      g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 11));
      String label = "target: 1,000 records, p50 <= 250 ms";
      g.drawString(label, x - 12 - g.getFontMetrics().stringWidth(label), y + 18);
    }
  }

  private static void legend(Graphics2D g, List<String> systems) {
    g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 13));
    int y = PLOT_BOTTOM + 72;
    int x = 80;
    for (int i = 0; i < systems.size(); i++) {
      String system = systems.get(i);
      g.setColor(COLORS[i % COLORS.length]);
      g.fillRect(x, y - 6, 22, 5);
      g.fillOval(x + 6, y - 8, 10, 10);
      g.setColor(Color.BLACK);
      g.drawString(system, x + 30, y);
      x += 30 + g.getFontMetrics().stringWidth(system) + 40;
    }
    g.setColor(Color.DARK_GRAY);
    g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 11));
    for (int row = 0; row < systems.size(); row++) {
      String system = systems.get(row);
      g.drawString(system + ": " + TerminalReport.DESCRIPTIONS.getOrDefault(system, ""), 80, y + 20 + row * 15);
    }
  }
}
