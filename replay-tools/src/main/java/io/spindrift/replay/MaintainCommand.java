package io.spindrift.replay;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.spindrift.handler.MaintenanceHandler;
import io.spindrift.maintenance.AppMaintenance;
import io.spindrift.runtime.SpindriftRuntime;
import io.spindrift.sink.maintenance.MaintenancePolicy;
import io.spindrift.sink.maintenance.MaintenanceReport;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code spindrift maintain}: the scheduled table maintenance run once, here: compaction, expiry and collection of
 * the app's sink and rejects tables, and of the stage objects of published commits (docs/MAINTENANCE.md).
 */
@Command(name = "maintain", sortOptions = false, mixinStandardHelpOptions = true,
    headerHeading = "", synopsisHeading = "Usage: ", descriptionHeading = "%n", optionListHeading = "%nOptions:%n",
    header = "Compact, expire and collect an app's tables and published stages, keeping what unpublished commits need.",
    description = {"Runs what the deployed maintenance function runs on its schedule: Iceberg rewrites small data files "
        + "and manifests, expires snapshots and removes orphan files; Delta runs OPTIMIZE, a checkpoint and VACUUM; "
        + "Hudi clusters and cleans. Then the stage objects of published commits are deleted. Nothing a committed "
        + "but unpublished commit references is ever deleted, and publishing stays exactly once. Thresholds and "
        + "retention are the SPINDRIFT_MAINTENANCE_* settings."},
    footerHeading = "%nExamples:%n",
    footer = {"  spindrift maintain --app clickstream",
        "  SPINDRIFT_MAINTENANCE_SNAPSHOT_RETENTION_HOURS=1 spindrift maintain --app clickstream --json"})
final class MaintainCommand implements Callable<Integer> {
  private static final ObjectMapper JSON = new ObjectMapper();
  private final CliEnvironment env;

  @Option(names = "--app", paramLabel = "NAME", description = "App to maintain; default: $SPINDRIFT_APP.")
  String app;

  @Option(names = "--json", description = "Print one JSON object (for scripts).")
  boolean json;

  MaintainCommand(CliEnvironment env) {
    this.env = env;
  }

  @Override
  public Integer call() throws Exception {
    io.spindrift.config.SpindriftConfig config;
    MaintenancePolicy policy;
    try {
      config = env.config(app);
      policy = MaintenancePolicy.fromSettings(config.asMap());
    } catch (IllegalArgumentException e) {
      throw new BadArgument(e.getMessage(), e); // a bad SPINDRIFT_* value, named by the message
    }
    AppMaintenance.Result done;
    try (SpindriftRuntime runtime = SpindriftRuntime.create(config);
        AppMaintenance maintenance = AppMaintenance.of(runtime)) {
      done = maintenance.run(policy);
    }
    if (json) {
      env.out().println(JSON.writeValueAsString(MaintenanceHandler.result(done)));
      return 0;
    }
    StringBuilder text = new StringBuilder();
    text.append(String.format("App '%s': %d unpublished commit(s) kept whole (%d objects); stage objects: %d listed,"
        + " %d deleted%n", config.app(), done.unpublishedCommits(), done.protectedObjects(), done.stageObjectsListed(),
        done.stageObjectsDeleted()));
    for (MaintenanceReport table : done.tables()) {
      if (!table.tableExists()) {
        text.append(String.format("  %-40s (no table)%n", table.table()));
        continue;
      }
      text.append(String.format("  %-40s %s: data files %d -> %d, stored %d -> %d, versions %d -> %d%n", table.table(),
          table.format(), table.liveFilesBefore(), table.liveFilesAfter(), table.storedFilesBefore(),
          table.storedFilesAfter(), table.versionsBefore(), table.versionsAfter()));
      table.actions().forEach(action -> text.append("      ").append(action).append(System.lineSeparator()));
    }
    env.out().print(text);
    env.out().flush();
    return 0;
  }
}
