package io.spindrift.maintenance;

import io.spindrift.commit.CommitLog;
import io.spindrift.commit.CommitRecord;
import io.spindrift.commit.CommitStages;
import io.spindrift.commit.DynamoDbCommitLog;
import io.spindrift.commit.LogSnapshot;
import io.spindrift.commit.S3CommitSpill;
import io.spindrift.config.Setting;
import io.spindrift.config.SpindriftConfig;
import io.spindrift.runtime.AwsClients;
import io.spindrift.runtime.SpindriftRuntime;
import io.spindrift.sink.SinkContext;
import io.spindrift.sink.SinkSpec;
import io.spindrift.sink.maintenance.MaintenancePolicy;
import io.spindrift.sink.maintenance.MaintenanceReport;
import io.spindrift.sink.maintenance.ProtectedObjects;
import io.spindrift.sink.maintenance.StageCollector;
import io.spindrift.sink.maintenance.TableMaintenance;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.function.LongSupplier;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;
import software.amazon.awssdk.services.s3.S3Client;

/**
 * The maintenance of one app: its sink table, its rejects table and its stage prefix (DESIGN §7, I7). A run, in
 * this order:
 * <ol>
 *   <li>fixes the cutoff (now minus the orphan age) and lists the stage prefix;
 *   <li>reads the app's committed-but-unpublished commits from the commit log and collects everything they
 *       reference (staged data files, manifests, stage documents, state deltas, spilled commit stages, and their
 *       stage directories): the {@link ProtectedObjects};
 *   <li>runs each table's format maintenance, which keeps those objects and anything younger than the cutoff;
 *   <li>deletes the listed stage objects older than the cutoff that no unpublished commit references.
 * </ol>
 * A batch stages before it commits, within one invocation; the orphan age is at least the longest invocation
 * ({@link MaintenancePolicy#LONGEST_INVOCATION}), so an object older than the cutoff whose batch commits at all
 * has its commit in the log read at step 2. A commit published since is collected by the next run. A failure
 * (the log or a table unreachable, a stage unreadable) fails the run before anything it protects could be deleted.
 */
public final class AppMaintenance implements AutoCloseable {
  private final String app;
  private final CommitLog log;
  private final TableMaintenance table;
  private final TableMaintenance rejects;
  private final StageCollector stage;
  private final LongSupplier clock;
  private final List<AutoCloseable> owned = new ArrayList<>();

  /**
   * @param table the maintenance of the app's sink table
   * @param rejects the maintenance of its rejects table (same format)
   * @param clock wall-clock milliseconds (tests move it)
   */
  public AppMaintenance(String app, CommitLog log, TableMaintenance table, TableMaintenance rejects,
      StageCollector stage, LongSupplier clock) {
    this.app = app;
    this.log = log;
    this.table = table;
    this.rejects = rejects;
    this.stage = stage;
    this.clock = clock;
  }

  /**
   * The maintenance of {@code runtime}'s app (its sink table, the rejects table and the stage prefix), with its own
   * commit-log and S3 clients, closed by {@link #close}.
   */
  public static AppMaintenance of(SpindriftRuntime runtime) {
    SpindriftConfig config = runtime.config();
    SinkContext context = new SinkContext(config.app(), runtime.spark(), runtime.catalog(), config.stageLocation(),
        config.asMap());
    SinkSpec sink = runtime.sink();
    SinkSpec rejects = new SinkSpec(sink.format(), runtime.rejectsTable(), SinkSpec.Mode.APPEND, List.of(), null);
    S3Client s3 = AwsClients.s3(config);
    DynamoDbClient dynamo = AwsClients.dynamoDb(config);
    CommitLog log = new DynamoDbCommitLog(dynamo, config.get(Setting.COMMIT_TABLE), new S3CommitSpill(s3, config.bucket()));
    AppMaintenance maintenance = new AppMaintenance(config.app(), log, TableMaintenance.create(sink, context),
        TableMaintenance.create(rejects, context), new StageCollector(s3, config.stageLocation()),
        System::currentTimeMillis);
    maintenance.owned.add(s3);
    maintenance.owned.add(dynamo);
    return maintenance;
  }

  /** The policy {@code runtime}'s settings give ({@code SPINDRIFT_MAINTENANCE_*}). */
  public static MaintenancePolicy policy(SpindriftRuntime runtime) {
    return MaintenancePolicy.fromSettings(runtime.config().asMap());
  }

  @Override
  public void close() {
    for (AutoCloseable resource : owned) {
      try {
        resource.close();
      } catch (Exception e) {
        throw new IllegalStateException("Cannot close " + resource, e);
      }
    }
    owned.clear();
  }

  /**
   * What a run did: one report per table (the sink's, then the rejects'), the commits that were waiting to be
   * published, and what happened to the stage prefix.
   */
  public record Result(List<MaintenanceReport> tables, int unpublishedCommits, int protectedObjects,
      int stageObjectsListed, int stageObjectsDeleted) {
    public Result {
      tables = List.copyOf(tables);
    }
  }

  /** Runs maintenance once under {@code policy}. */
  public Result run(MaintenancePolicy policy) {
    long cutoff = clock.getAsLong() - policy.orphanMinAge().toMillis();
    List<StageCollector.StageObject> listed = stage.list();
    List<CommitRecord> waiting = unpublished();
    ProtectedObjects keep = protect(waiting, cutoff);
    List<MaintenanceReport> reports = new ArrayList<>();
    reports.add(table.run(policy, keep));
    reports.add(rejects.run(policy, keep));
    int deleted = stage.delete(listed, keep);
    return new Result(reports, waiting.size(), keep.objects().size(), listed.size(), deleted);
  }

  /**
   * The commits after the publication watermark: every unpublished commit is among them (the watermark only
   * rises after a publish), and a few already published ones may be, which only keeps their objects a run longer;
   * plus the lane commits not yet sequenced. Pending commits are read first: one sequenced in between is then
   * among the commits under the head read after.
   */
  private List<CommitRecord> unpublished() {
    List<CommitRecord> waiting = new java.util.ArrayList<>(log.pending(app));
    LogSnapshot head = log.read(app, List.of());
    if (head.headSeq() > head.publishedSeq()) {
      waiting.addAll(log.commits(app, head.publishedSeq(), head.headSeq()));
    }
    return waiting;
  }

  private ProtectedObjects protect(List<CommitRecord> waiting, long cutoff) {
    Set<String> objects = new HashSet<>();
    Set<String> directories = new HashSet<>();
    for (CommitRecord commit : waiting) {
      CommitStages stages = commit.stages();
      objects.addAll(table.referencedObjects(stages.table()));
      objects.addAll(rejects.referencedObjects(stages.rejects()));
      if (stages.stateObject() != null) {
        objects.add(stages.stateObject());
      }
      // the transaction's own stage directory: spilled commit stages and state deltas live there
      directories.add(stage.directoryOfTransaction(commit.txnId()));
    }
    for (String object : objects) {
      String directory = stage.directoryOf(object);
      if (directory != null) {
        directories.add(directory);
      }
    }
    return new ProtectedObjects(objects, directories, cutoff);
  }
}
