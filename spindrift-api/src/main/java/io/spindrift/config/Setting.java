package io.spindrift.config;

/**
 * Every Spindrift setting: its environment-variable name, its default (one that works on the local stack)
 * and what it means. The same name is used in code, in the properties file, in the CDK app and in the docs.
 */
public enum Setting {
  APP("SPINDRIFT_APP", "demo", "Name of the deployed job; namespaces every durable thing."),
  JOB("SPINDRIFT_JOB", "io.spindrift.job.PassThroughJob",
      "The job: a StreamJob class name, or a SQL file (classpath:…, file:…, s3://…) reading view `events`."),
  COMMIT_TABLE("SPINDRIFT_COMMIT_TABLE", "spindrift_commits", "DynamoDB table of the commit log."),
  BUCKET("SPINDRIFT_BUCKET", "spindrift", "S3 bucket for tables, staged output and shuffle files."),
  REGION("SPINDRIFT_REGION", "us-east-1", "AWS region of every client."),
  S3_ENDPOINT("SPINDRIFT_S3_ENDPOINT", "", "S3 endpoint override (local stack); empty means AWS."),
  DYNAMODB_ENDPOINT("SPINDRIFT_DYNAMODB_ENDPOINT", "", "DynamoDB endpoint override (local stack); empty means AWS."),
  ACCESS_KEY("SPINDRIFT_ACCESS_KEY", "", "Static access key for a local stack; empty means the default chain."),
  SECRET_KEY("SPINDRIFT_SECRET_KEY", "", "Static secret key for a local stack."),
  CATALOG("SPINDRIFT_CATALOG", "dynamodb", "Iceberg catalog: dynamodb, glue or rest."),
  CATALOG_NAME("SPINDRIFT_CATALOG_NAME", "lake", "Name of the Iceberg catalog inside Spark SQL."),
  CATALOG_TABLE("SPINDRIFT_CATALOG_TABLE", "spindrift_iceberg_catalog", "DynamoDB table of the Iceberg catalog."),
  CATALOG_URI("SPINDRIFT_CATALOG_URI", "", "URI of a REST catalog (SPINDRIFT_CATALOG=rest)."),
  WAREHOUSE("SPINDRIFT_WAREHOUSE", "", "Table warehouse location; empty means s3://<bucket>/warehouse."),
  SINK_FORMAT("SPINDRIFT_SINK_FORMAT", "", "Overrides the job's sink format: iceberg, delta or hudi."),
  SINK_TABLE("SPINDRIFT_SINK_TABLE", "", "Overrides the job's sink table (namespace.table)."),
  SINK_MODE("SPINDRIFT_SINK_MODE", "", "Overrides the job's write mode: append, or upsert (MERGE on SPINDRIFT_SINK_KEYS)."),
  SINK_KEYS("SPINDRIFT_SINK_KEYS", "", "Overrides the job's upsert key columns (comma-separated)."),
  SINK_PARTITION_BY("SPINDRIFT_SINK_PARTITION_BY", "",
      "Overrides the column a new table is partitioned by (identity); empty means the job's choice."),
  DELTA_CHECKPOINT_INTERVAL("SPINDRIFT_DELTA_CHECKPOINT_INTERVAL", "100",
      "Commits between Delta checkpoints of a table Spindrift creates (docs/SINKS.md)."),
  DELTA_LOG_TABLE("SPINDRIFT_DELTA_LOG_TABLE", "spindrift_delta_log",
      "DynamoDB table that makes concurrent Delta commits on S3 safe (one writer per version)."),
  HUDI_METADATA_TABLE("SPINDRIFT_HUDI_METADATA_TABLE", "false",
      "true turns Hudi's metadata table on for a Hudi sink (off: +0.8 s per publish here, docs/SINKS.md)."),
  HUDI_LOCK_TABLE("SPINDRIFT_HUDI_LOCK_TABLE", "spindrift_hudi_locks",
      "DynamoDB table of Hudi's lock provider (optimistic concurrency between writers)."),
  HUDI_LEASE_TABLE("SPINDRIFT_HUDI_LEASE_TABLE", "spindrift_hudi_publish",
      "DynamoDB table of the per-app Hudi publish lease."),
  HUDI_TABLE_TYPE("SPINDRIFT_HUDI_TABLE_TYPE", "COPY_ON_WRITE",
      "Hudi table type of a table Spindrift creates: COPY_ON_WRITE or MERGE_ON_READ."),
  STATE_TABLE("SPINDRIFT_STATE_TABLE", "spindrift_state", "DynamoDB table of stateful jobs' state."),
  STATE_RETENTION_HOURS("SPINDRIFT_STATE_RETENTION_HOURS", "0",
      "DynamoDB TTL backstop on state rows: hours a row lives after its last write; 0 means no expiry."),
  SHUFFLE_PARTITIONS("SPINDRIFT_SHUFFLE_PARTITIONS", "4",
      "spark.sql.shuffle.partitions; fixed for the life of an app (state is bucketed by it)."),
  PARALLELIZATION_FACTOR("SPINDRIFT_PARALLELIZATION_FACTOR", "1",
      "The Kinesis mapping's ParallelizationFactor; only 1 is supported (DESIGN §5). At cold start the function's"
          + " real mappings are checked when it may list them (lambda:ListEventSourceMappings); this setting is the"
          + " fallback."),
  PUBLISH("SPINDRIFT_PUBLISH", "inline",
      "When committed output reaches the table: inline (before the response) or deferred (after it, in the background;"
          + " the next invocation completes it)."),
  COMMIT_MODE("SPINDRIFT_COMMIT_MODE", "lanes",
      "How a stateless batch commits: lanes (on its lanes alone, then sequenced for publication with every pending"
          + " commit at once: batches of different lanes never contend) or head (every commit moves the app's head,"
          + " the layout before lane commits). Stateful batches: SPINDRIFT_STATEFUL_COMMIT_MODE."),
  MAX_COMMIT_ATTEMPTS("SPINDRIFT_MAX_COMMIT_ATTEMPTS", "10", "Commit attempts before the invocation fails."),
  ARCHIVE("SPINDRIFT_ARCHIVE", "false",
      "true writes each batch's raw input, before its commit, under s3://<bucket>/<app>/archive/ (gzip JSON lines by"
          + " lane and position range; BatchArchive), so `spindrift replay --archive` outlives the stream's retention."),
  FANOUT("SPINDRIFT_FANOUT", "off",
      "Fan-out to child executors (DESIGN §8): off, auto (when a batch exceeds the limits below) or always (every"
          + " batch of two records or more; for tests and demos)."),
  FANOUT_FUNCTION("SPINDRIFT_FANOUT_FUNCTION", "",
      "The child-executor Lambda function (name or ARN) fan-out invokes; set by the CDK app."),
  FANOUT_INVOKER("SPINDRIFT_FANOUT_INVOKER", "lambda",
      "How children run: lambda (invoke SPINDRIFT_FANOUT_FUNCTION), local (warm child JVM processes on this"
          + " machine) or in-process (threads of this JVM; tests)."),
  FANOUT_MAX_RECORDS("SPINDRIFT_FANOUT_MAX_RECORDS", "50000",
      "A batch with more records than this fans out (SPINDRIFT_FANOUT=auto)."),
  FANOUT_MAX_BYTES("SPINDRIFT_FANOUT_MAX_BYTES", "67108864",
      "A batch with more payload bytes than this fans out (SPINDRIFT_FANOUT=auto)."),
  FANOUT_MS_PER_RECORD("SPINDRIFT_FANOUT_MS_PER_RECORD", "0.05",
      "Estimated milliseconds one invocation spends per record; a batch whose estimate exceeds half the"
          + " invocation's remaining time fans out (SPINDRIFT_FANOUT=auto)."),
  FANOUT_RECORDS_PER_CHILD("SPINDRIFT_FANOUT_RECORDS_PER_CHILD", "25000",
      "Records one child executor is given at most (the number of splits is the batch's records over this)."),
  FANOUT_MAX_CHILDREN("SPINDRIFT_FANOUT_MAX_CHILDREN", "64", "Children one batch fans out to at most."),
  FANOUT_CHILD_ATTEMPTS("SPINDRIFT_FANOUT_CHILD_ATTEMPTS", "3",
      "Invocations of one child task before the batch fails (and Lambda retries it)."),
  FANOUT_STRAGGLER_FACTOR("SPINDRIFT_FANOUT_STRAGGLER_FACTOR", "3",
      "A child still running after this multiple of its finished peers' median time is re-issued; the first"
          + " answer wins."),
  FANOUT_INVOKE_RATE("SPINDRIFT_FANOUT_INVOKE_RATE", "100",
      "Child invocations started per second at most (Lambda invoker; back-off on TooManyRequestsException)."),
  FANOUT_LOCAL_CHILDREN("SPINDRIFT_FANOUT_LOCAL_CHILDREN", "2",
      "Warm child JVM processes of the local invoker (SPINDRIFT_FANOUT_INVOKER=local)."),
  WATERMARK_IDLE_SECONDS("SPINDRIFT_WATERMARK_IDLE_SECONDS", "300",
      "A stateful job's event-time watermark is the minimum over its lanes' newest events (less the job's delay);"
          + " a lane that delivered nothing for this many seconds stops holding it back until it delivers again."),
  SPARK_MASTER("SPARK_MASTER", "local[*]", "Spark master inside the function."),
  CONFIG_FILE("SPINDRIFT_CONFIG_FILE", "", "Optional properties file with any of these settings."),
  ICEBERG_MAX_SNAPSHOTS("SPINDRIFT_ICEBERG_MAX_SNAPSHOTS", "1000",
      "Iceberg sink: a publish that leaves a table more snapshots than this expires the oldest tenth, with the files"
          + " only they reference (every commit writes a metadata file listing every snapshot, so at a commit a"
          + " second per lane the history would make each commit slower until maintenance ran); 0: only maintenance"
          + " expires (SPINDRIFT_MAINTENANCE_SNAPSHOT_RETENTION_HOURS). Raise it for longer time travel."),
  MAINTENANCE_TARGET_FILE_MB("SPINDRIFT_MAINTENANCE_TARGET_FILE_MB", "128",
      "Table maintenance (docs/MAINTENANCE.md): size of the files compaction writes (Iceberg bin-pack, Delta"
          + " OPTIMIZE, Hudi clustering), in MiB."),
  MAINTENANCE_MIN_INPUT_FILES("SPINDRIFT_MAINTENANCE_MIN_INPUT_FILES", "5",
      "Table maintenance: small Iceberg files a file group needs before it is rewritten (at least 2)."),
  MAINTENANCE_SNAPSHOT_RETENTION_HOURS("SPINDRIFT_MAINTENANCE_SNAPSHOT_RETENTION_HOURS", "1",
      "Table maintenance: history kept, in hours: older Iceberg snapshots are expired and older Hudi file versions"
          + " cleaned (SPINDRIFT_MAINTENANCE_RETAIN_SNAPSHOTS are always kept). One hour, because tables take a"
          + " commit per second per lane (4 lanes: 14,400 snapshots an hour) and exactly-once never reads this"
          + " history: a publish is made idempotent by the table's own records (Iceberg's published-seq property,"
          + " Delta's txn versions, Hudi's tagged and archived timeline), and unpublished commits' objects are"
          + " protected by the orphan age, not by snapshots (docs/MAINTENANCE.md). Raise it for time travel or"
          + " for readers whose queries run longer."),
  MAINTENANCE_RETAIN_SNAPSHOTS("SPINDRIFT_MAINTENANCE_RETAIN_SNAPSHOTS", "10",
      "Table maintenance: Iceberg snapshots always kept, however old."),
  MAINTENANCE_ORPHAN_MIN_AGE_HOURS("SPINDRIFT_MAINTENANCE_ORPHAN_MIN_AGE_HOURS", "72",
      "Table maintenance: untracked files (Iceberg orphans, stage objects of no unpublished commit) younger than"
          + " this many hours are kept (at least 1: a batch in flight writes files before its commit exists)."),
  MAINTENANCE_VACUUM_RETENTION_HOURS("SPINDRIFT_MAINTENANCE_VACUUM_RETENTION_HOURS", "168",
      "Table maintenance: Delta VACUUM retention in hours (at least 1); raised as needed so VACUUM never reaches"
          + " files of unpublished commits."),
  FANOUT_TWO_LEVEL_CHILDREN("SPINDRIFT_FANOUT_TWO_LEVEL_CHILDREN", "128",
      "A stateful fan-out with at least this many partition maps and reducers together exchanges in two levels:"
          + " sqrt(maps) combiners each gather a group of map objects, reducers read one range of each combiner."),
  FANOUT_TREE_CHILDREN("SPINDRIFT_FANOUT_TREE_CHILDREN", "100",
      "A fan-out stage with more children than this starts them through a tree of invokes: the parent invokes"
          + " launchers that each invoke at most this many children."),
  READ_AHEAD("SPINDRIFT_READ_AHEAD", "off",
      "Catch-up read-ahead (docs/FANOUT.md): on makes a lane far behind the tip read ahead of its event directly"
          + " from the stream and commit event and read-ahead as one batch; off (the default) never."),
  READ_AHEAD_MAX_RECORDS("SPINDRIFT_READ_AHEAD_MAX_RECORDS", "10000",
      "Catch-up read-ahead: stream records one invocation reads ahead of its event at most, over all its lanes."),
  READ_AHEAD_MAX_BYTES("SPINDRIFT_READ_AHEAD_MAX_BYTES", "33554432",
      "Catch-up read-ahead: payload bytes one invocation reads ahead of its event at most."),
  READ_AHEAD_MIN_BEHIND_MS("SPINDRIFT_READ_AHEAD_MIN_BEHIND_MS", "60000",
      "Catch-up read-ahead, Kinesis: a shard reads ahead when GetRecords after its position reports at least this"
          + " MillisBehindLatest."),
  READ_AHEAD_MIN_LAG_RECORDS("SPINDRIFT_READ_AHEAD_MIN_LAG_RECORDS", "10000",
      "Catch-up read-ahead, Kafka: a partition reads ahead when its end offset is at least this many records past"
          + " its position."),
  KINESIS_ENDPOINT("SPINDRIFT_KINESIS_ENDPOINT", "",
      "Kinesis endpoint override (local stack) of catch-up read-ahead and the spindrift CLI; empty means AWS."),
  KAFKA_BOOTSTRAP("SPINDRIFT_KAFKA_BOOTSTRAP", "",
      "Kafka bootstrap servers of catch-up read-ahead (security: SPINDRIFT_KAFKA_SECURITY) and the spindrift CLI;"
          + " empty: Kafka lanes never read ahead."),
  SCHEMA_REGISTRY_URL("SPINDRIFT_SCHEMA_REGISTRY_URL", "",
      "Avro/Protobuf payloads (JobContext.parseAvro, parseProtobuf): base URL of the Confluent-compatible schema"
          + " registry whose ids Confluent-framed payloads carry; empty means such payloads are rejects."),
  GLUE_ENDPOINT("SPINDRIFT_GLUE_ENDPOINT", "",
      "Avro/Protobuf payloads: AWS Glue endpoint override for the Glue Schema Registry (local stack); empty means"
          + " AWS."),
  SCHEMA_REGISTRY_RETRY_SECONDS("SPINDRIFT_SCHEMA_REGISTRY_RETRY_SECONDS", "10",
      "Avro/Protobuf payloads: a schema id the registry did not serve (unknown, or the registry unreachable) is"
          + " not asked for again for this many seconds; its payloads are rejects meanwhile."),
  KAFKA_SECURITY("SPINDRIFT_KAFKA_SECURITY", "plaintext",
      "How catch-up read-ahead's Kafka consumer reaches SPINDRIFT_KAFKA_BOOTSTRAP, as the MSK event-source mapping"
          + " does: plaintext, tls (TLS, MSK port 9094), scram (SASL/SCRAM-SHA-512 over TLS, port 9096, with"
          + " SPINDRIFT_KAFKA_SCRAM_SECRET) or iam (AWS_MSK_IAM over TLS, port 9098, the function's role)."),
  KAFKA_SCRAM_SECRET("SPINDRIFT_KAFKA_SCRAM_SECRET", "",
      "SPINDRIFT_KAFKA_SECURITY=scram: ARN of the Secrets Manager secret (AmazonMSK_...) holding"
          + " {\"username\",\"password\"}: the secret the MSK mapping's SASL_SCRAM auth uses."),
  KAFKA_TRUSTSTORE("SPINDRIFT_KAFKA_TRUSTSTORE", "",
      "Kafka over TLS: a trust store file (JKS, or PKCS12 named .p12/.pfx) for brokers the JVM's certificate"
          + " authorities do not sign; empty: the JVM's (MSK's brokers are trusted)."),
  KAFKA_TRUSTSTORE_PASSWORD("SPINDRIFT_KAFKA_TRUSTSTORE_PASSWORD", "",
      "Password of SPINDRIFT_KAFKA_TRUSTSTORE (empty: none)."),
  HUDI_SMALL_FILE_MB("SPINDRIFT_HUDI_SMALL_FILE_MB", "0",
      "Hudi sink: 0 (the default) writes a publish's inserts to new files, which the publish's inline clustering"
          + " (SPINDRIFT_HUDI_CLUSTER_COMMITS) and maintenance compact; above 0, a publish adds its inserts to a base"
          + " file smaller than this many MiB, rewriting it (Hudi's small-file handling: the whole table while it is"
          + " small)."),
  HUDI_CLUSTER_COMMITS("SPINDRIFT_HUDI_CLUSTER_COMMITS", "10",
      "Hudi sink: after this many commits since the last clustering, a publish clusters the table's base files"
          + " below SPINDRIFT_MAINTENANCE_SMALL_FILE_MB into files of up to SPINDRIFT_MAINTENANCE_TARGET_FILE_MB (Hudi's"
          + " inline clustering, inside that publish), so the file count stays bounded between maintenance runs; 0:"
          + " only maintenance clusters."),
  MAINTENANCE_SMALL_FILE_MB("SPINDRIFT_MAINTENANCE_SMALL_FILE_MB", "96",
      "Table maintenance: Hudi base files below this many MiB are clustered into files of"
          + " SPINDRIFT_MAINTENANCE_TARGET_FILE_MB (at most that size), once a partition has SPINDRIFT_MAINTENANCE_MIN_INPUT_FILES of them."),
  PUBLISH_GROUP("SPINDRIFT_PUBLISH_GROUP", "on",
      "Inline publishing: on (the invocation holding the app's publish claim publishes every commit waiting in one"
          + " table commit per table, and applies a stateful app's state; the others wait for it) or off (every"
          + " invocation publishes its own backlog)."),
  PUBLISH_CLAIM_SECONDS("SPINDRIFT_PUBLISH_CLAIM_SECONDS", "10",
      "Group publishing: a publish claim its holder stops renewing (it died) is taken over after this many seconds."),
  PUBLISH_WAIT_MARGIN_MS("SPINDRIFT_PUBLISH_WAIT_MARGIN_MS", "3000",
      "Group publishing: an invocation stops waiting for another's publish this long before its remaining time"
          + " ends, and returns with its commit durable but not yet in the table (the next roll-forward publishes"
          + " it)."),
  STATEFUL_COMMIT_MODE("SPINDRIFT_STATEFUL_COMMIT_MODE", "auto",
      "How a stateful batch commits: auto (the default: buckets for a new app and for one a bucket commit has"
          + " reached, head for an app whose log head commits wrote), buckets (on its lanes and the state buckets it"
          + " writes, then sequenced like a lane commit: stateful batches conflict only when they write a common"
          + " state partition) or head (every commit moves the app's head). Switch an existing app to buckets, or"
          + " back to head, only while no invocation is in flight."),
  DELTA_UPSERT_REWRITE_MAX_MB("SPINDRIFT_DELTA_UPSERT_REWRITE_MAX_MB", "256",
      "A Delta upsert rewrites the table files that may hold its keys on the driver, in memory, when they total"
          + " at most this many MB; larger upserts run Delta's MERGE (a Spark job that streams)."),
  HUDI_WRITE_CLIENT("SPINDRIFT_HUDI_WRITE_CLIENT", "java",
      "Hudi sink: java writes a publish's commit in the function's own JVM with Hudi's Java write client (no Spark"
          + " job); spark uses Hudi's Spark write client, whose write tasks run on Spark's executors (a cluster"
          + " deployment publishing commits too large for one JVM).");

  private final String key;
  private final String defaultValue;
  private final String description;

  Setting(String key, String defaultValue, String description) {
    this.key = key;
    this.defaultValue = defaultValue;
    this.description = description;
  }

  public String key() {
    return key;
  }

  public String defaultValue() {
    return defaultValue;
  }

  public String description() {
    return description;
  }
}
