package io.spindrift.handler;

import com.amazonaws.services.lambda.runtime.Context;
import com.amazonaws.services.lambda.runtime.RequestHandler;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.spindrift.maintenance.AppMaintenance;
import io.spindrift.runtime.SpindriftRuntime;
import io.spindrift.sink.maintenance.MaintenancePolicy;
import io.spindrift.sink.maintenance.MaintenanceReport;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Lambda entry point of the scheduled table maintenance (an EventBridge schedule in the CDK app; {@code spindrift
 * maintain} or {@link #main} locally): compacts, expires and collects the app's sink and rejects tables, and deletes
 * the stage objects of published commits, never anything an unpublished commit references ({@link AppMaintenance},
 * docs/MAINTENANCE.md). Logs one line per table in CloudWatch Embedded Metric Format with {@code TableDataFiles}
 * (files per table, dimensions {@code App} and {@code Table}) and {@code TableVersions}. A failing action fails the
 * invocation; the next tick runs again. Handler string: {@code io.spindrift.handler.MaintenanceHandler::handleRequest};
 * any input event is accepted and ignored.
 */
public final class MaintenanceHandler implements RequestHandler<Map<String, Object>, Map<String, Object>> {
  private static final Logger LOG = LoggerFactory.getLogger("io.spindrift.maintenance");
  private static final ObjectMapper JSON = new ObjectMapper();
  private final Supplier<SpindriftRuntime> runtime;

  /** Used by Lambda: the container's runtime, configured from the environment. */
  public MaintenanceHandler() {
    this(SpindriftRuntime::container);
  }

  public MaintenanceHandler(SpindriftRuntime runtime) {
    this(() -> runtime);
  }

  private MaintenanceHandler(Supplier<SpindriftRuntime> runtime) {
    this.runtime = runtime;
  }

  /** Runs maintenance once with the environment's settings and prints the result as JSON. */
  public static void main(String[] args) throws Exception {
    Map<String, Object> result = new MaintenanceHandler().handleRequest(Map.of(), null);
    System.out.println(JSON.writerWithDefaultPrettyPrinter().writeValueAsString(result));
    System.exit(0);
  }

  /** Returns {@code unpublishedCommits}, {@code stageObjectsDeleted} and one entry per table under {@code tables}. */
  @Override
  public Map<String, Object> handleRequest(Map<String, Object> event, Context context) {
    SpindriftRuntime current = runtime.get();
    MaintenancePolicy policy = AppMaintenance.policy(current);
    AppMaintenance.Result done;
    try (AppMaintenance maintenance = AppMaintenance.of(current)) {
      done = maintenance.run(policy);
    }
    String app = current.config().app();
    done.tables().stream().filter(MaintenanceReport::tableExists).forEach(report -> log(app, report));
    return result(done);
  }

  /** The run as plain values (the handler's response, the CLI's JSON). */
  public static Map<String, Object> result(AppMaintenance.Result done) {
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("unpublishedCommits", done.unpublishedCommits());
    out.put("protectedObjects", done.protectedObjects());
    out.put("stageObjectsListed", done.stageObjectsListed());
    out.put("stageObjectsDeleted", done.stageObjectsDeleted());
    List<Map<String, Object>> tables = new ArrayList<>();
    for (MaintenanceReport report : done.tables()) {
      Map<String, Object> table = new LinkedHashMap<>();
      table.put("table", report.table());
      table.put("format", report.format());
      table.put("exists", report.tableExists());
      table.put("liveFilesBefore", report.liveFilesBefore());
      table.put("liveFilesAfter", report.liveFilesAfter());
      table.put("storedFilesBefore", report.storedFilesBefore());
      table.put("storedFilesAfter", report.storedFilesAfter());
      table.put("versionsBefore", report.versionsBefore());
      table.put("versionsAfter", report.versionsAfter());
      table.put("actions", report.actions());
      tables.add(table);
    }
    out.put("tables", tables);
    return out;
  }

  private static void log(String app, MaintenanceReport report) {
    Map<String, Object> line = new LinkedHashMap<>();
    line.put("app", app);
    line.put("maintenance", true);
    line.put("table", report.table());
    line.put("format", report.format());
    line.put("actions", report.actions());
    line.put("TableDataFiles", report.liveFilesAfter());
    line.put("TableStoredFiles", report.storedFilesAfter());
    line.put("TableVersions", report.versionsAfter());
    line.put("App", app);
    line.put("Table", report.table());
    line.put("_aws", Map.of("Timestamp", System.currentTimeMillis(), "CloudWatchMetrics", List.of(Map.of(
        "Namespace", "Spindrift", "Dimensions", List.of(List.of("App", "Table")),
        "Metrics", List.of(Map.of("Name", "TableDataFiles", "Unit", "Count"),
            Map.of("Name", "TableStoredFiles", "Unit", "Count"),
            Map.of("Name", "TableVersions", "Unit", "Count"))))));
    try {
      LOG.info(JSON.writeValueAsString(line));
    } catch (Exception e) {
      LOG.info("{}", line);
    }
  }
}
