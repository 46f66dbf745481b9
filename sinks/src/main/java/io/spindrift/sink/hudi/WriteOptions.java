package io.spindrift.sink.hudi;

import io.spindrift.sink.SinkSpec;
import java.util.Properties;
import org.apache.avro.Schema;
import org.apache.hudi.common.model.HoodieTableType;
import org.apache.hudi.common.model.OverwriteWithLatestAvroPayload;
import org.apache.hudi.common.table.HoodieTableConfig;
import org.apache.hudi.config.HoodieWriteConfig;
import org.apache.hudi.keygen.ComplexKeyGenerator;
import org.apache.hudi.keygen.NonpartitionedKeyGenerator;
import org.apache.hudi.keygen.SimpleKeyGenerator;

/**
 * Hudi's table and write settings for one Spindrift table, chosen for a Lambda invocation: one write client per
 * container and table, kept warm between publishes, several containers (apps) writing one table, nothing running
 * between invocations.
 *
 * <p>Upserts need no precombine (ordering) field: the sink keeps the last row of each key itself, in commit order,
 * before it writes, so Hudi is told not to combine ({@code hoodie.combine.before.*=false}), and the default payload
 * ({@link OverwriteWithLatestAvroPayload}) lets an incoming row replace the stored row of its key without comparing
 * orderings. The user declares keys only.
 */
record WriteOptions(SinkSpec spec, HoodieTableType type, String location, HudiSettings settings) {
  /** A container's publishes between two inline cleans. */
  static final int CLEAN_EVERY = 10;
  /**
   * A table service a commit found due and left for the upkeep after its publication ({@link HudiSink#afterPublish})
   * is run by the commit that finds it left this many commits: the upkeeps in between found the table's lease
   * taken by another container's publish (which goes first), or did not run.
   */
  static final int SERVICES_LEFT_COMMITS = 3;
  /** Commits whose files the cleaner keeps (Hudi's default): a reader's snapshot stays readable that long. */
  static final int CLEANER_COMMITS_RETAINED = 10;
  /** Archival keeps at least this many commits on the active timeline (Hudi's default: 20). */
  static final int KEEP_MIN_COMMITS = 12;
  /** Archival runs once the active timeline holds more commits than this (Hudi's default: 30). */
  static final int KEEP_MAX_COMMITS = 15;
  /**
   * A rejects table's inserts go into its newest base file until it reaches this size: a commit rewrites at most
   * this much, before its wait for the table's commit, and the table stays a few files without clustering.
   */
  static final long REJECTS_FILE_BYTES = 8L * 1024 * 1024;

  /** What a sink's table is to the runtime, which decides what a publish does before and after its commit. */
  enum Role {
    /** The job's table: services after the publication ({@link #publishConfig}, {@link HudiSink#afterPublish}). */
    TABLE,
    /**
     * The rejects beside it: append-only, and its commit waits for the table's (the runtime's
     * {@code Sink.publish(pending, deadline, beforeCommit)}). Everything but the commit runs before that wait:
     * inserts merge into the newest small file instead of inline clustering after the commit, and cleaning and
     * archival run before the commit ({@link WarmWriteClient#servicesBeforeCommit}).
     */
    REJECTS
  }

  /** Properties of a new table ({@code hoodie.properties}). */
  Properties tableProperties(Schema schema) {
    Properties props = new Properties();
    props.setProperty("hoodie.table.name", spec.name());
    props.setProperty("hoodie.database.name", spec.namespace());
    props.setProperty("hoodie.table.type", type.name());
    props.setProperty("hoodie.table.create.schema", schema.toString());
    props.setProperty("hoodie.table.base.file.format", "PARQUET");
    props.setProperty("hoodie.populate.meta.fields", "true");
    props.setProperty("hoodie.compaction.payload.class", OverwriteWithLatestAvroPayload.class.getName());
    props.setProperty("hoodie.table.keygenerator.class", keyGenerator());
    // partition directories named column=value, as Spark, Hive and Athena discover them
    props.setProperty("hoodie.datasource.write.hive_style_partitioning", "true");
    props.setProperty("hoodie.datasource.write.partitionpath.urlencode", "false");
    // the sink never bootstraps a table (maps existing Parquet files into it): without a bootstrap index, the table
    // view Hudi builds for every step of a commit does not look for the index's files (a HEAD and a LIST each)
    props.setProperty(HoodieTableConfig.BOOTSTRAP_INDEX_ENABLE.key(), "false");
    props.setProperty(HoodieTableConfig.BOOTSTRAP_INDEX_CLASS_NAME.key(),
        HoodieTableConfig.NO_OP_BOOTSTRAP_INDEX_CLASS);
    if (spec.isUpsert()) {
      props.setProperty("hoodie.table.recordkey.fields", String.join(",", spec.keys()));
    }
    if (spec.partitionBy() != null) {
      props.setProperty("hoodie.table.partition.fields", spec.partitionBy());
    }
    return props;
  }

  /** The key generator recorded for other writers; the sink makes keys and partition paths the same way. */
  private String keyGenerator() {
    if (spec.partitionBy() == null) {
      return NonpartitionedKeyGenerator.class.getName();
    }
    return (spec.keys().size() > 1 ? ComplexKeyGenerator.class : SimpleKeyGenerator.class).getName();
  }

  /**
   * The settings of the sink's own write client, kept warm between publishes: {@link #writeConfig} plus what only
   * a publish wants, for a table in {@code role}. Every choice here removes work Hudi would otherwise do inside the
   * publish (docs/SINKS.md has the figures).
   */
  HoodieWriteConfig publishConfig(Schema schema, Role role) {
    Properties props = writeConfig(schema).getProps();
    // the SIMPLE index reads record keys, not bloom filters: building and serializing one per file is wasted CPU
    props.setProperty("hoodie.parquet.bloom.filter.enabled", "false");
    // the sink cleans itself, on a container's first publish and every CLEAN_EVERY publishes after it, not after
    // every commit: the clean planner lists the table each time, and a table whose cleaner finds nothing (bulk
    // inserts) never resets Hudi's own trigger (commits since the last clean)
    props.setProperty("hoodie.clean.automatic", "false");
    // an insert estimates record sizes from the newest commit that wrote anything, instead of reading every commit
    // of the active timeline back until one wrote more than the small-file limit (none does, publishing small batches)
    props.setProperty("hoodie.record.size.estimation.threshold", "0");
    // archival too: the sink runs it with the clean (WarmWriteClient), where Hudi builds the table and reads the
    // timeline after every commit to decide, most times, that nothing is old enough
    props.setProperty("hoodie.archive.automatic", "false");
    // every step of a commit that reads the timeline lists .hoodie/ (three files per instant): archival keeps 12 to
    // 15 commits on the active timeline instead of Hudi's 20 to 30 (a third fewer entries per listing); the cleaner
    // keeps the last CLEANER_COMMITS_RETAINED commits' files, which Hudi requires to stay below the minimum
    props.setProperty("hoodie.keep.min.commits", Integer.toString(KEEP_MIN_COMMITS));
    props.setProperty("hoodie.keep.max.commits", Integer.toString(KEEP_MAX_COMMITS));
    props.setProperty("hoodie.cleaner.commits.retained", Integer.toString(CLEANER_COMMITS_RETAINED));
    if (role == Role.REJECTS) {
      rejectsAfterTheTable(props);
    } else {
      inlineClustering(props);
    }
    return HoodieWriteConfig.newBuilder().withPath(location).withProps(props).build();
  }

  /**
   * A rejects table's commit completes after its table's, and whatever Hudi runs after a commit lengthens the
   * publish by as much (inline clustering, archival: a third to a half of a rejects commit); what it does before
   * the commit overlaps the table's. So its inserts merge into the newest base file below
   * {@link #REJECTS_FILE_BYTES} (written before the wait; rejects are few and small, so the rewrite is too) instead
   * of new files that inline clustering compacts after a commit; the sink runs its clean and archival before a
   * commit.
   */
  private static void rejectsAfterTheTable(Properties props) {
    props.setProperty("hoodie.parquet.small.file.limit", Long.toString(REJECTS_FILE_BYTES));
    props.setProperty("hoodie.clustering.inline", "false");
    props.setProperty("hoodie.clustering.async.enabled", "false");
  }

  /**
   * Hudi's inline clustering, due once {@code everyCommits} commits completed since the last clustering and run
   * after the publication, under the table's lease (the sink's upkeep, {@link HudiSink#afterPublish}, or else a
   * later commit): publishes write new files
   * ({@code hoodie.parquet.small.file.limit=0}), and this keeps their number bounded between maintenance runs. The
   * plan takes the new files and earlier clusterings' output by tiers ({@link TieredClusteringPlanStrategy}), not
   * the whole table; the Java engine's execution strategy (Hudi's defaults are the Spark ones); one file group alone
   * is already as compact as clustering makes it.
   */
  private void inlineClustering(Properties props) {
    HudiSettings.Clustering clustering = settings.clustering();
    boolean on = clustering.everyCommits() > 0;
    props.setProperty("hoodie.clustering.inline", Boolean.toString(on));
    props.setProperty("hoodie.clustering.async.enabled", "false");
    if (!on) {
      return;
    }
    props.setProperty("hoodie.clustering.inline.max.commits", Integer.toString(clustering.everyCommits()));
    props.setProperty("hoodie.clustering.plan.strategy.class",
        TieredClusteringPlanStrategy.class.getName());
    props.setProperty("hoodie.clustering.execution.strategy.class",
        "org.apache.hudi.client.clustering.run.strategy.JavaSortAndSizeExecutionStrategy");
    props.setProperty("hoodie.clustering.plan.strategy.small.file.limit", Long.toString(clustering.smallFileBytes()));
    props.setProperty("hoodie.clustering.plan.strategy.target.file.max.bytes",
        Long.toString(clustering.targetFileBytes()));
    props.setProperty("hoodie.clustering.plan.strategy.single.group.clustering.enabled", "false");
  }

  /** The write client's settings for one commit written with {@code schema}. */
  HoodieWriteConfig writeConfig(Schema schema) {
    Properties props = tableProperties(schema);
    props.setProperty("hoodie.avro.schema", schema.toString());
    if (spec.isUpsert()) {
      props.setProperty("hoodie.datasource.write.recordkey.field", String.join(",", spec.keys()));
    }
    if (spec.partitionBy() != null) {
      props.setProperty("hoodie.datasource.write.partitionpath.field", spec.partitionBy());
    }
    // the sink commits itself, with the CommitTag in the commit's metadata and a check under the table lock
    props.setProperty("hoodie.auto.commit", "false");
    props.setProperty("hoodie.combine.before.insert", "false");
    props.setProperty("hoodie.combine.before.upsert", "false");
    // a key is unique in the whole table, as with Iceberg and Delta: a row whose partition value changed moves
    props.setProperty("hoodie.index.type", spec.partitionBy() == null ? "SIMPLE" : "GLOBAL_SIMPLE");
    props.setProperty("hoodie.simple.index.update.partition.path", "true");

    // several containers commit to one table: optimistic concurrency, commits serialised by a DynamoDB lock
    props.setProperty("hoodie.write.concurrency.mode", "optimistic_concurrency_control");
    // a container may die mid-write: its inflight commit is rolled back later by a cleaner, never eagerly by
    // another writer (which could not tell a dead writer from a slow one)
    props.setProperty("hoodie.cleaner.policy.failed.writes", "LAZY");
    props.setProperty("hoodie.write.lock.provider", DynamoDbLockProvider.class.getName());
    props.setProperty(DynamoDbLockProvider.TABLE, settings.lockTable());
    props.setProperty(DynamoDbLockProvider.PARTITION_KEY, location);
    AwsSettings aws = settings.aws();
    props.setProperty(DynamoDbLockProvider.REGION, aws.region());
    if (!aws.dynamoDbEndpoint().isBlank()) {
      props.setProperty(DynamoDbLockProvider.ENDPOINT, aws.dynamoDbEndpoint());
    }
    if (!aws.accessKey().isBlank()) {
      props.setProperty(DynamoDbLockProvider.ACCESS_KEY, aws.accessKey());
      props.setProperty(DynamoDbLockProvider.SECRET_KEY, aws.secretKey());
    }

    // the metadata table saves file listings on big tables but is a second Hudi table to commit to on every
    // publish: off by default (publish of 1,000 rows on the local stack: median 1.8 s off, 2.6 s on)
    props.setProperty("hoodie.metadata.enable", Boolean.toString(settings.metadataTable()));
    // no embedded timeline server: it would start a web server per write client, whose file-system view a warm
    // client would have to keep in step with other containers' commits
    props.setProperty("hoodie.embed.timeline.server", "false");
    // markers as plain files next to the data: TIMELINE_SERVER_BASED markers need the server just turned off
    props.setProperty("hoodie.write.markers.type", "DIRECT");
    // nothing runs between invocations, so cleaning and archival run inline after a commit (each decides quickly
    // when there is nothing to do); LAZY rollback of failed writes depends on the cleaner running
    props.setProperty("hoodie.clean.automatic", "true");
    props.setProperty("hoodie.clean.async", "false");
    props.setProperty("hoodie.archive.automatic", "true");
    props.setProperty("hoodie.archive.async", "false");
    // merge-on-read: compact inline every 5 delta commits, as no compaction service runs between invocations
    props.setProperty("hoodie.compact.inline", Boolean.toString(type == HoodieTableType.MERGE_ON_READ));
    props.setProperty("hoodie.compact.inline.max.delta.commits", "5");
    // snappy, as Spark writes: Hudi's default gzip costs CPU a small function does not have
    props.setProperty("hoodie.parquet.compression.codec", "snappy");
    // inserts go to a base file below this size (rewriting it) or, at 0, to new files that maintenance clusters
    props.setProperty("hoodie.parquet.small.file.limit", Long.toString(settings.smallFileBytes()));
    return HoodieWriteConfig.newBuilder().withPath(location).withProps(props).build();
  }
}
