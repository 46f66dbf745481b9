package io.spindrift.bench;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/** Where and when a run happened, quoted beside its figures (a benchmark without its machine is no figure). */
final class Machine {
  private Machine() {}

  static Map<String, Object> describe() {
    Map<String, Object> machine = new LinkedHashMap<>();
    int cores = Runtime.getRuntime().availableProcessors();
    String cpu = cpuModel();
    long memoryGb = memoryBytes() >> 30;
    String os = System.getProperty("os.name") + " " + System.getProperty("os.version");
    String java = System.getProperty("java.vm.name") + " " + System.getProperty("java.runtime.version");
    String date = ZonedDateTime.now(ZoneOffset.UTC).format(DateTimeFormatter.ISO_OFFSET_DATE_TIME);
    machine.put("cores", cores);
    machine.put("cpu", cpu);
    machine.put("memoryGb", memoryGb);
    machine.put("os", os);
    machine.put("java", java);
    machine.put("date", date);
    machine.put("loadAverageAtStart", loadAverage());
    machine.put("summary", String.format(Locale.ROOT, "%d cores (%s), %d GB, %s, Java %s, %s", cores, cpu,
        memoryGb, os, System.getProperty("java.runtime.version"), date.substring(0, 16).replace('T', ' ') + " UTC"));
    return machine;
  }

  /** The 1, 5 and 15-minute load averages, or "unknown" off Linux: a noisy machine shows here. */
  static String loadAverage() {
    try {
      List<String> fields = List.of(Files.readString(Path.of("/proc/loadavg")).trim().split(" "));
      return String.join(" ", fields.subList(0, 3));
    } catch (IOException | RuntimeException e) {
      return "unknown";
    }
  }

  private static String cpuModel() {
    try {
      return Files.readAllLines(Path.of("/proc/cpuinfo")).stream()
          .filter(line -> line.startsWith("model name"))
          .map(line -> line.substring(line.indexOf(':') + 1).trim())
          .findFirst().orElse(System.getProperty("os.arch"));
    } catch (IOException e) {
      return System.getProperty("os.arch");
    }
  }

  private static long memoryBytes() {
    if (ManagementFactory.getOperatingSystemMXBean() instanceof com.sun.management.OperatingSystemMXBean os) {
      return os.getTotalMemorySize();
    }
    return Runtime.getRuntime().maxMemory();
  }
}
