package io.spindrift.runtime;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.spindrift.archive.BatchArchive;
import io.spindrift.commit.CommitLog;
import io.spindrift.commit.DynamoDbCommitLog;
import io.spindrift.protocol.BatchOutcome;
import io.spindrift.protocol.CommitProtocol;
import io.spindrift.protocol.Faults;
import io.spindrift.protocol.MicroBatch;
import io.spindrift.protocol.RollForward;
import io.spindrift.config.Setting;
import io.spindrift.config.SpindriftConfig;
import io.spindrift.event.Batch;
import io.spindrift.event.SourceKind;
import io.spindrift.job.JobContext;
import io.spindrift.job.JobLoader;
import io.spindrift.job.StreamJob;
import io.spindrift.sink.Sink;
import io.spindrift.sink.SinkSpec;
import io.spindrift.sink.iceberg.CatalogSettings;
import io.spindrift.sink.SinkContext;
import io.spindrift.sink.Sinks;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.iceberg.CatalogUtil;
import org.apache.iceberg.catalog.Catalog;
import org.apache.spark.sql.SparkSession;
import io.spindrift.state.StateTable;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Everything a warm Lambda container keeps between invocations: the configuration, the SparkSession (one per
 * JVM), the AWS clients, the Iceberg catalog, the loaded job and its sinks. {@link #container()} is the one
 * per-container instance the handlers use; {@link #create} builds an independent one (a "fresh container" in
 * tests, sharing only the JVM's SparkSession).
 */
public final class SpindriftRuntime implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger("io.spindrift.invocation");
  private static final ObjectMapper JSON = new ObjectMapper();
  private static volatile SpindriftRuntime container;
  private static SparkSession spark;

  private final SpindriftConfig config;
  private final StreamJob job;
  private final SinkSpec sinkSpec;
  private final DynamoDbClient dynamo;
  private final DynamoDbCommitLog log;
  private final Catalog catalog;
  private final Faults faults = new Faults();
  private final Map<SourceKind, CommitProtocol> processors = new EnumMap<>(SourceKind.class);
  private final Map<SourceKind, MicroBatchQuery> statefulQueries = new EnumMap<>(SourceKind.class);
  private final SparkSession session;
  private CommitProtocol publisher;
  /** Runs child tasks of fan-outs (built on first use); null until then. */
  private final io.spindrift.fanout.ChildInvoker givenInvoker;
  private ChildRuns childRuns;
  private SpindriftRuntime inProcessChild;
  private software.amazon.awssdk.services.s3.S3Client exchangeS3;
  /** Why the job's stateful batches cannot fan out (null: they can, or the job is stateless). */
  private String unsplittable;
  private io.spindrift.fanout.FanOutPlanner planner;
  private final Map<SourceKind, io.spindrift.fanout.FanOutMicroBatch> fanOuts = new EnumMap<>(SourceKind.class);
  /** What a batch run's manifests covered: their commits count records, not splits. */
  private final io.spindrift.fanout.SplitRecordCounts splitCounts = new io.spindrift.fanout.SplitRecordCounts();
  private io.spindrift.fanout.ReadAhead readAhead;

  private SpindriftRuntime(SpindriftConfig config) {
    this(config, null);
  }

  private SpindriftRuntime(SpindriftConfig config, io.spindrift.fanout.ChildInvoker invoker) {
    this.config = config;
    this.givenInvoker = invoker;
    this.job = JobLoader.load(config);
    this.sinkSpec = effectiveSink(config, job);
    this.dynamo = AwsClients.dynamoDb(config);
    this.log = new DynamoDbCommitLog(dynamo, config.get(Setting.COMMIT_TABLE),
        new io.spindrift.commit.S3CommitSpill(AwsClients.s3(config), config.bucket()));
    log.ensureTable();
    this.session = newSession();
    this.catalog = buildCatalog(config, session);
  }

  /**
   * The Iceberg catalog. Iceberg's DynamoDB catalog creates its table on first use; containers starting at the
   * same moment race for that, and the losers see {@code ResourceInUseException}: build again, the table is there.
   */
  private static Catalog buildCatalog(SpindriftConfig config, SparkSession session) {
    for (int attempt = 1; ; attempt++) {
      try {
        return CatalogUtil.buildIcebergCatalog(config.get(Setting.CATALOG_NAME),
            catalogSettings(config).publisherProperties(), session.sparkContext().hadoopConfiguration());
      } catch (RuntimeException e) {
        boolean raced = false;
        for (Throwable cause = e; cause != null; cause = cause.getCause()) {
          raced |= cause instanceof software.amazon.awssdk.services.dynamodb.model.ResourceInUseException;
        }
        if (!raced || attempt >= 5) {
          throw e;
        }
        try {
          Thread.sleep(200L * attempt);
        } catch (InterruptedException interrupted) {
          Thread.currentThread().interrupt();
          throw e;
        }
      }
    }
  }

  /** The container's runtime, built on first use from the environment. */
  public static SpindriftRuntime container() {
    SpindriftRuntime current = container;
    if (current == null) {
      synchronized (SpindriftRuntime.class) {
        if (container == null) {
          SpindriftConfig config = SpindriftConfig.fromEnvironment();
          ParallelizationCheck.atColdStart(config);
          container = new SpindriftRuntime(config);
        }
        current = container;
      }
    }
    return current;
  }

  /** An independent runtime (its own caches, clients and job instance) over the JVM's SparkSession. */
  public static SpindriftRuntime create(SpindriftConfig config) {
    return new SpindriftRuntime(config);
  }

  /** As {@link #create(SpindriftConfig)}, fanning out through {@code invoker} (e.g. warm local child JVMs). */
  public static SpindriftRuntime create(SpindriftConfig config, io.spindrift.fanout.ChildInvoker invoker) {
    return new SpindriftRuntime(config, invoker);
  }

  private static SinkSpec effectiveSink(SpindriftConfig config, StreamJob job) {
    SinkSpec spec = job.sink();
    String table = config.get(Setting.SINK_TABLE);
    String format = config.get(Setting.SINK_FORMAT);
    SinkSpec named = table.isBlank() ? spec : spec.withTable(table);
    SinkSpec formatted = format.isBlank() ? named
        : named.withFormat(SinkSpec.Format.valueOf(format.toUpperCase(java.util.Locale.ROOT)));
    String keys = config.get(Setting.SINK_KEYS);
    String mode = config.get(Setting.SINK_MODE);
    String partitionBy = config.get(Setting.SINK_PARTITION_BY);
    List<String> keyColumns = keys.isBlank() ? formatted.keys()
        : java.util.Arrays.stream(keys.split(",")).map(String::trim).toList();
    SinkSpec.Mode writeMode = mode.isBlank() ? formatted.mode()
        : SinkSpec.Mode.valueOf(mode.toUpperCase(java.util.Locale.ROOT));
    return new SinkSpec(formatted.format(), formatted.table(), writeMode, keyColumns,
        partitionBy.isBlank() ? formatted.partitionBy() : partitionBy);
  }

  public static CatalogSettings catalogSettings(SpindriftConfig config) {
    return new CatalogSettings(config.get(Setting.CATALOG_NAME), config.catalog(), config.warehouse(),
        config.get(Setting.CATALOG_TABLE), config.get(Setting.CATALOG_URI), config.region(),
        config.get(Setting.S3_ENDPOINT), config.get(Setting.DYNAMODB_ENDPOINT),
        config.get(Setting.ACCESS_KEY), config.get(Setting.SECRET_KEY));
  }

  /** The JVM's SparkSession, created on first use with settings fit for one micro-batch per invocation. */
  public static synchronized SparkSession sparkSession(SpindriftConfig config) {
    if (spark == null) {
      SparkSession.Builder builder = SparkSession.builder()
          .master(config.get(Setting.SPARK_MASTER))
          .appName("spindrift-" + config.app())
          .config("spark.ui.enabled", "false")
          .config("spark.driver.host", "127.0.0.1")
          .config("spark.driver.bindAddress", "127.0.0.1")
          .config("spark.sql.shuffle.partitions", config.get(Setting.SHUFFLE_PARTITIONS))
          .config("spark.sql.streaming.noDataMicroBatches.enabled", "false")
          .config("spark.sql.session.timeZone", "UTC")
          .config("spark.sql.adaptive.enabled", "false")
          .config("spark.sql.extensions", "org.apache.iceberg.spark.extensions.IcebergSparkSessionExtensions");
      // Delta commits on S3 go through the DynamoDB log store: many Lambdas write one table (read from SparkConf)
      io.spindrift.sink.Sinks.sparkConf().forEach(builder::config);
      spark = builder.getOrCreate();
    }
    return spark;
  }

  /**
   * A session of the JVM's SparkSession with this runtime's Iceberg catalog (runtimes may differ in endpoints) and
   * its own shuffle partitions: the JVM's session was built from whichever runtime came first, and a stateful app's
   * state partitions (and its bucket count) must be its own SPINDRIFT_SHUFFLE_PARTITIONS, not another app's.
   */
  SparkSession newSession() {
    SparkSession session = sparkSession(config).newSession();
    session.conf().set("spark.sql.shuffle.partitions", config.get(Setting.SHUFFLE_PARTITIONS));
    String catalogName = config.get(Setting.CATALOG_NAME);
    session.conf().set("spark.sql.catalog." + catalogName, "org.apache.iceberg.spark.SparkCatalog");
    // other containers publish to the same tables: never answer a query from a stale cached snapshot
    session.conf().set("spark.sql.catalog." + catalogName + ".cache-enabled", "false");
    catalogSettings(config).properties()
        .forEach((key, value) -> session.conf().set("spark.sql.catalog." + catalogName + "." + key, value));
    return session;
  }

  /**
   * Runs one batch through the exactly-once protocol ({@link CommitProtocol}) and logs one structured line about
   * it. Returns what the invocation did.
   *
   * @throws io.spindrift.protocol.BatchFailedException if the batch failed (Lambda retries it)
   */
  public BatchOutcome process(Batch batch) {
    return process(batch, Long.MAX_VALUE);
  }

  /**
   * As {@link #process(Batch)}, for an invocation with {@code remainingMs} left (Lambda's {@code
   * Context.getRemainingTimeInMillis()}): fan-out plans within it, and a wait for another invocation's publish ends
   * in time.
   */
  public BatchOutcome process(Batch batch, long remainingMs) {
    long start = System.nanoTime();
    // Lambda allows at most 15 minutes; a day or more means no deadline (a local run, a test)
    long deadlineNanos = remainingMs >= java.util.concurrent.TimeUnit.DAYS.toMillis(1) ? Long.MAX_VALUE
        : start + java.util.concurrent.TimeUnit.MILLISECONDS.toNanos(remainingMs);
    io.spindrift.fanout.FanOutMicroBatch.remainingTime(remainingMs);
    CommitProtocol protocol = processor(batch.kind());
    // read-ahead never grows a batch that cannot fan out past what this invocation can finish
    io.spindrift.fanout.ReadAhead.Room room = readAheadRoom(batch.kind(),
        deadlineNanos == Long.MAX_VALUE ? Long.MAX_VALUE : remainingMs);
    // a batch run's manifest counts records, not splits (fanout.SplitRecordCounts)
    BatchOutcome outcome = splitCounts.counted(readAhead().process(batch, room,
        b -> protocol.process(b, deadlineNanos)));
    logInvocation(batch, outcome, (System.nanoTime() - start) / 1_000_000);
    return outcome;
  }

  /** What a batch of {@code kind} may grow to by read-ahead: unbounded if it can fan out, else one invocation. */
  private synchronized io.spindrift.fanout.ReadAhead.Room readAheadRoom(SourceKind kind, long remainingMs) {
    if (planner == null) {
      planner = new io.spindrift.fanout.FanOutPlanner(config);
    }
    return planner.singleInvocation(statefulQueries.containsKey(kind), unsplittable, remainingMs);
  }

  /** Catch-up read-ahead (built on first use; a no-op unless SPINDRIFT_READ_AHEAD=on). */
  private synchronized io.spindrift.fanout.ReadAhead readAhead() {
    if (readAhead == null) {
      readAhead = io.spindrift.fanout.ReadAhead.from(config, lanes -> log.read(config.app(), lanes).lanePositions());
    }
    return readAhead;
  }

  private synchronized CommitProtocol processor(SourceKind kind) {
    return processors.computeIfAbsent(kind, k -> {
      SinkContext sinks = new SinkContext(config.app(), session, catalog, config.stageLocation(), config.asMap());
      Sink table = Sinks.create(sinkSpec, sinks);
      Sink rejects = Sinks.createRejects(rejectsSpec(), sinks);
      JobContext context = new JobContext(config.app(), k, new io.spindrift.registry.RegistryPayloads(config));
      CommitProtocol.Builder protocol = CommitProtocol.builder(config.app(), splitCounts.counting(log))
          .sinks(table, rejects)
          .faults(faults)
          .maxAttempts(config.getInt(Setting.MAX_COMMIT_ATTEMPTS))
          .deferredPublishing(config.get(Setting.PUBLISH).equalsIgnoreCase("deferred"))
          .laneCommits(laneCommits())
          .bucketCommits(!statefulCommitMode().equals("head") ? config.getInt(Setting.SHUFFLE_PARTITIONS) : 0)
          .bucketCommitsPerApp(statefulCommitMode().equals("auto"))
          .checkpointMerge(checkpointMerge());
      if (groupPublish()) {
        protocol.groupPublish(new io.spindrift.commit.DynamoDbPublishClaim(dynamo, log.table()),
            config.getInt(Setting.PUBLISH_CLAIM_SECONDS) * 1000L, config.getInt(Setting.PUBLISH_WAIT_MARGIN_MS));
      }
      if (Boolean.parseBoolean(config.get(Setting.ARCHIVE))) {
        BatchArchive archive = new BatchArchive(AwsClients.s3(config), config.bucket());
        protocol.archive(batch -> archive.write(config.app(), batch));
      }
      if (!isStateful(context)) {
        return protocol.microBatch(new UndecodableRecords(fanningOut(k, new MicroBatchQuery(this::newSession, job,
            context, table, rejects, null, idleLaneMs())), rejects)).build();
      }
      if ("update".equals(job.outputMode()) && !sinkSpec.isUpsert()) {
        throw new IllegalStateException("The job's stateful query uses output mode 'update' but its sink "
            + sinkSpec.table() + " appends: an updated row would be added again. Declare the sink as an upsert on"
            + " the grouping key (SinkSpec.upsert(...) or SPINDRIFT_SINK_MODE=upsert with SPINDRIFT_SINK_KEYS)");
      }
      StateTable state = stateTable();
      state.ensureTable();
      MicroBatchQuery stateful = new MicroBatchQuery(this::newSession, job, context, table, rejects, state,
          idleLaneMs());
      String mode = statefulCommitMode();
      stateful.reuseOnHeadCheckpoint(snapshot -> mode.equals("buckets")
          || (mode.equals("auto") && snapshot.commitsOnBuckets()));
      statefulQueries.put(k, stateful);
      return protocol.microBatch(new UndecodableRecords(fanningOut(k, stateful), rejects)).state(state).build();
    });
  }

  /** How long a lane that delivers nothing holds a stateful job's event-time watermark back. */
  private long idleLaneMs() {
    return config.getInt(Setting.WATERMARK_IDLE_SECONDS) * 1000L;
  }

  /** The micro-batch, behind fan-out when SPINDRIFT_FANOUT is on (DESIGN §8). */
  private io.spindrift.protocol.MicroBatch fanningOut(SourceKind kind, MicroBatchQuery single) {
    io.spindrift.fanout.FanOutPlanner planner = new io.spindrift.fanout.FanOutPlanner(config);
    if (!planner.enabled()) {
      return single;
    }
    // a stateless upsert fans out too: a key in several splits is settled by the sinks, a later part's row wins
    String why = unsplittable;
    io.spindrift.fanout.FanOutMicroBatch fanOut = new io.spindrift.fanout.FanOutMicroBatch(config.app(), single,
        planner, new io.spindrift.fanout.Exchange(exchangeS3(), config.bucket()), invoker(), why,
        config.getInt(Setting.FANOUT_CHILD_ATTEMPTS), config.getDouble(Setting.FANOUT_STRAGGLER_FACTOR),
        splitCounts);
    fanOuts.put(kind, fanOut);
    return fanOut;
  }

  /** The child invoker SPINDRIFT_FANOUT_INVOKER names (or the one this runtime was created with). */
  private io.spindrift.fanout.ChildInvoker invoker() {
    if (givenInvoker != null) {
      return new io.spindrift.fanout.ChildInvoker() {
        @Override
        public java.util.concurrent.CompletableFuture<String> invoke(io.spindrift.fanout.ChildTask task) {
          return givenInvoker.invoke(task);
        }

        @Override
        public int concurrency() {
          return givenInvoker.concurrency();
        }
        // not closed with this runtime: its owner shares it (warm children across runtimes)
      };
    }
    String kind = config.get(Setting.FANOUT_INVOKER).trim().toLowerCase(java.util.Locale.ROOT);
    return switch (kind) {
      case "lambda" -> new io.spindrift.fanout.LambdaInvoker(AwsClients.lambda(config),
          config.get(Setting.FANOUT_FUNCTION), config.getInt(Setting.FANOUT_MAX_CHILDREN),
          config.getDouble(Setting.FANOUT_INVOKE_RATE));
      case "local" -> new io.spindrift.fanout.LocalProcessInvoker(config.asMap(),
          config.getInt(Setting.FANOUT_LOCAL_CHILDREN));
      case "in-process" -> new io.spindrift.fanout.InProcessInvoker(json -> inProcessChild().runChild(json), 2);
      default -> throw new io.spindrift.config.ConfigException(Setting.FANOUT_INVOKER, kind,
          "one of lambda, local, in-process");
    };
  }

  /** One exchange client per runtime (its connection pool is shared by the parent's and the child's side). */
  private synchronized software.amazon.awssdk.services.s3.S3Client exchangeS3() {
    if (exchangeS3 == null) {
      exchangeS3 = AwsClients.exchangeS3(config);
    }
    return exchangeS3;
  }

  private synchronized SpindriftRuntime inProcessChild() {
    if (inProcessChild == null) {
      inProcessChild = new SpindriftRuntime(config.with(Map.of(Setting.FANOUT.key(), "off")));
    }
    return inProcessChild;
  }

  /**
   * Runs one fan-out child task (its JSON) in this container and returns the child's response: the entry point of
   * the child-executor function and of local child processes.
   */
  public String runChild(String taskJson) {
    ChildRuns runs;
    synchronized (this) {
      if (childRuns == null) {
        SinkContext sinks = new SinkContext(config.app(), session, catalog, config.stageLocation(), config.asMap());
        childRuns = new ChildRuns(config.app(), this::newSession, job, Sinks.create(sinkSpec, sinks),
            Sinks.createRejects(rejectsSpec(), sinks), this::stateTable, log,
            new io.spindrift.fanout.Exchange(exchangeS3(), config.bucket()), idleLaneMs(), this::invoker,
            new io.spindrift.registry.RegistryPayloads(config));
      }
      runs = childRuns;
    }
    return runs.run(taskJson);
  }

  /** Batches this runtime fanned out so far, over every source (zeros when fan-out is off). */
  public synchronized io.spindrift.fanout.FanOutMicroBatch.FanOutTotals fanOutTotals() {
    long batches = 0;
    long records = 0;
    long invocations = 0;
    for (io.spindrift.fanout.FanOutMicroBatch fanOut : fanOuts.values()) {
      var totals = fanOut.totals();
      batches += totals.batches();
      records += totals.records();
      invocations += totals.childInvocations();
    }
    return new io.spindrift.fanout.FanOutMicroBatch.FanOutTotals(batches, records, invocations);
  }

  /** Records this runtime read ahead of its events so far (0 when SPINDRIFT_READ_AHEAD is off). */
  public synchronized long readAheadRecords() {
    return readAhead == null ? 0 : readAhead.readAheadRecords();
  }

  /** What the last fanned-out batch of {@code kind} did (null: none, or fan-out is off). */
  public synchronized io.spindrift.fanout.FanOutMicroBatch.FanOutReport lastFanOut(SourceKind kind) {
    io.spindrift.fanout.FanOutMicroBatch fanOut = fanOuts.get(kind);
    return fanOut == null ? null : fanOut.lastReport();
  }

  /**
   * Publishes whatever the app has committed and not yet published (the scheduled roll-forward, DESIGN §5 I1):
   * through a protocol this runtime already has, or one that only publishes and needs no job plan.
   *
   * @return what was waiting and what this call published
   */
  public RollForward rollForward() {
    CommitProtocol protocol;
    synchronized (this) {
      protocol = processors.isEmpty() ? publisher() : processors.values().iterator().next();
    }
    return protocol.rollForwardAll();
  }

  /** The publish-only protocol (built on first use): the sinks and, for stateful commits, the state table. */
  private synchronized CommitProtocol publisher() {
    if (publisher == null) {
      SinkContext sinks = new SinkContext(config.app(), session, catalog, config.stageLocation(), config.asMap());
      publisher = CommitProtocol.builder(config.app(), log)
          .sinks(Sinks.create(sinkSpec, sinks), Sinks.createRejects(rejectsSpec(), sinks))
          .state(stateTable())
          .faults(faults)
          .checkpointMerge(checkpointMerge())
          .buildPublisher();
    }
    return publisher;
  }

  /** Plans the job once over an empty feed: refuses what Spindrift cannot run, and sees whether it keeps state. */
  private boolean isStateful(JobContext context) {
    String probe = "probe-" + java.util.UUID.randomUUID();
    InvocationSource.open(probe, 1);
    try {
      var output = MicroBatchQuery.output(newSession(), job, context, probe);
      PlanCheck.check(output, job.outputMode());
      unsplittable = StatefulPlans.unsplittable(output);
      return StatefulPlans.isStateful(output);
    } finally {
      InvocationSource.close(probe);
    }
  }

  /** The state of a stateful job: values too large for an item go to <app>/state/, large deltas to the stage. */
  private StateTable stateTable() {
    return new StateTable(dynamo, config.get(Setting.STATE_TABLE), config.app(),
        java.time.Duration.ofHours(config.getInt(Setting.STATE_RETENTION_HOURS)),
        new io.spindrift.state.StateSpill(AwsClients.s3(config),
            "s3://" + config.bucket() + "/" + config.app() + "/state", config.stageLocation()));
  }

  private boolean laneCommits() {
    String mode = config.get(Setting.COMMIT_MODE).toLowerCase(java.util.Locale.ROOT);
    if (!mode.equals("lanes") && !mode.equals("head")) {
      throw new IllegalArgumentException("SPINDRIFT_COMMIT_MODE must be lanes or head, not '" + mode + "'");
    }
    return mode.equals("lanes");
  }

  private boolean groupPublish() {
    String group = config.get(Setting.PUBLISH_GROUP).trim().toLowerCase(java.util.Locale.ROOT);
    if (!group.equals("on") && !group.equals("off")) {
      throw new io.spindrift.config.ConfigException(Setting.PUBLISH_GROUP, group, "on or off");
    }
    return group.equals("on");
  }

  /**
   * How stateful batches commit (SPINDRIFT_STATEFUL_COMMIT_MODE): auto (on buckets for an app that is new or
   * already on them, on the head for an app of head commits), buckets, or head.
   */
  private String statefulCommitMode() {
    String mode = config.get(Setting.STATEFUL_COMMIT_MODE).trim().toLowerCase(java.util.Locale.ROOT);
    if (!mode.equals("auto") && !mode.equals("buckets") && !mode.equals("head")) {
      throw new io.spindrift.config.ConfigException(Setting.STATEFUL_COMMIT_MODE, mode, "auto, buckets or head");
    }
    return mode;
  }

  /** How bucket commits' query checkpoints combine on the head (wherever they are sequenced). */
  private java.util.function.BinaryOperator<String> checkpointMerge() {
    long idleLaneMs = idleLaneMs();
    return (a, b) -> QueryCheckpoint.merge(a, b, idleLaneMs);
  }

  private SinkSpec rejectsSpec() {
    return new SinkSpec(sinkSpec.format(), rejectsTable(), SinkSpec.Mode.APPEND, List.of(), null);
  }

  /** The table rejected records go to: the sink table's name with {@code _rejects} appended. */
  public String rejectsTable() {
    return sinkSpec.table() + "_rejects";
  }

  private void logInvocation(Batch batch, BatchOutcome outcome, long totalMs) {
    if (!LOG.isInfoEnabled()) {
      return;
    }
    Map<String, Object> line = new LinkedHashMap<>();
    line.put("app", config.app());
    line.put("lanes", List.copyOf(batch.lanes()));
    line.put("seq", outcome.seq());
    line.put("txnId", outcome.txnId());
    line.put("records", outcome.records());
    line.put("duplicates", outcome.duplicates());
    line.put("output", outcome.outputRows());
    line.put("rejected", outcome.rejected());
    line.put("CommitConflicts", outcome.conflicts());
    line.put("durationMs", totalMs);
    line.put("timingsMs", outcome.timingsMs());
    long commitMs = outcome.timingsMs().getOrDefault("commit", 0L) + outcome.timingsMs().getOrDefault("sequence", 0L);
    line.put("CommitLatencyMs", commitMs);
    line.put("publication", outcome.publication().name());
    line.put("Published", outcome.publication() == io.spindrift.protocol.PublishOutcome.PUBLISHED ? 1 : 0);
    line.put("PublishWaitMs", outcome.timingsMs().getOrDefault("publish_wait", 0L));
    line.put("ReturnedUnpublished", outcome.publication() == io.spindrift.protocol.PublishOutcome.UNPUBLISHED ? 1 : 0);
    List<String> lanes = List.copyOf(batch.lanes());
    boolean oneLane = lanes.size() == 1;
    List<List<String>> dimensions = oneLane ? List.of(List.of("App"), List.of("App", "Lane")) : List.of(List.of("App"));
    line.put("_aws", Map.of("Timestamp", System.currentTimeMillis(), "CloudWatchMetrics", List.of(Map.of(
        "Namespace", "Spindrift", "Dimensions", dimensions,
        "Metrics", List.of(Map.of("Name", "CommitConflicts", "Unit", "Count"),
            Map.of("Name", "CommitLatencyMs", "Unit", "Milliseconds"),
            Map.of("Name", "durationMs", "Unit", "Milliseconds"), Map.of("Name", "records", "Unit", "Count"),
            Map.of("Name", "Published", "Unit", "Count"), Map.of("Name", "PublishWaitMs", "Unit", "Milliseconds"),
            Map.of("Name", "ReturnedUnpublished", "Unit", "Count"))))));
    if (oneLane) {
      line.put("Lane", lanes.get(0));
    }
    line.put("App", config.app());
    try {
      LOG.info(JSON.writeValueAsString(line));
      if (!oneLane) {
        // a batch of several lanes (an MSK batch of several partitions): each lane's commit figures on a line of
        // its own, since an EMF line holds one value per dimension
        for (String lane : lanes) {
          LOG.info(JSON.writeValueAsString(Map.of("app", config.app(), "App", config.app(), "Lane", lane,
              "CommitLatencyMs", commitMs, "CommitConflicts", outcome.conflicts(), "_aws", Map.of(
                  "Timestamp", System.currentTimeMillis(), "CloudWatchMetrics", List.of(Map.of(
                      "Namespace", "Spindrift", "Dimensions", List.of(List.of("App", "Lane")),
                      "Metrics", List.of(Map.of("Name", "CommitConflicts", "Unit", "Count"),
                          Map.of("Name", "CommitLatencyMs", "Unit", "Milliseconds"))))))));
        }
      }
    } catch (Exception e) {
      LOG.info("{}", line);
    }
  }

  public SpindriftConfig config() {
    return config;
  }

  public StreamJob job() {
    return job;
  }

  public SinkSpec sink() {
    return sinkSpec;
  }

  /** Crash points of this runtime's protocol (reached by fault tests through the tests' runtime hooks). */
  Faults faults() {
    return faults;
  }

  public Catalog catalog() {
    return catalog;
  }

  /** This runtime's Spark session, whose catalog reaches the runtime's tables. */
  public SparkSession spark() {
    return session;
  }

  /**
   * Waits for this runtime's deferred publishes (SPINDRIFT_PUBLISH=deferred) scheduled so far. Returns false if one
   * failed: its commits stay unpublished until the next invocation's roll-forward, in any container.
   */
  public boolean awaitPublication() {
    List<CommitProtocol> current;
    synchronized (this) {
      current = List.copyOf(processors.values());
    }
    boolean ok = true;
    for (CommitProtocol processor : current) {
      ok &= processor.awaitPublication();
    }
    return ok;
  }

  /**
   * Stops this runtime's queries (a container going away) once its deferred publishes have ended; the JVM's
   * SparkSession stays.
   */
  @Override
  public synchronized void close() {
    processors.values().forEach(CommitProtocol::close);
    processors.clear();
    if (publisher != null) {
      publisher.close();
      publisher = null;
    }
    statefulQueries.clear();
    fanOuts.clear();
    if (childRuns != null) {
      childRuns.close();
      childRuns = null;
    }
    if (inProcessChild != null) {
      inProcessChild.close();
      inProcessChild = null;
    }
    if (readAhead != null) {
      readAhead.close();
      readAhead = null;
    }
    if (exchangeS3 != null) {
      exchangeS3.close();
      exchangeS3 = null;
    }
  }

  /** DynamoDB requests of this runtime's state store for {@code kind}'s batches (null: stateless job, or none yet). */
  synchronized io.spindrift.state.StateIoCounts stateIo(SourceKind kind) {
    CommitProtocol processor = processors.get(kind);
    return processor == null ? null : processor.stateIo();
  }

  /**
   * How many stateful queries this runtime started for {@code kind}'s batches (0: stateless job, or none yet): one
   * per container while it alone commits, one more each time another container committed in between.
   */
  synchronized long statefulQueryStarts(SourceKind kind) {
    MicroBatchQuery runner = statefulQueries.get(kind);
    return runner == null ? 0 : runner.queryStarts();
  }

  /** Commit conflicts met by this runtime so far. */
  public long conflicts() {
    long total = 0;
    synchronized (this) {
      for (CommitProtocol processor : processors.values()) {
        total += processor.conflicts();
      }
    }
    return total;
  }
}
