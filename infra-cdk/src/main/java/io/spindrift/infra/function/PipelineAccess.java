package io.spindrift.infra.function;

import io.spindrift.infra.config.PipelineConfig;
import io.spindrift.infra.config.PipelineConfig.CatalogType;
import io.spindrift.infra.config.PipelineConfig.SinkFormat;
import io.spindrift.infra.storage.PipelineStorage;
import java.util.List;
import java.util.Map;
import software.amazon.awscdk.Aws;
import software.amazon.awscdk.services.iam.PolicyStatement;
import software.amazon.awscdk.services.lambda.IFunction;
import software.amazon.awscdk.services.s3.Bucket;

/**
 * Least-privilege grants, each scoped to the app's own tables and bucket prefixes. The committing
 * handler may write the commit log, the state table, the sink's catalog, log-store, lock or lease
 * tables and the warehouse; the child executor only stages under {@code <app>/} and reads the
 * warehouse (DESIGN §8: nothing commits but the parent, and only the parent applies state).
 */
final class PipelineAccess {
  private static final List<String> OBJECT_READ_WRITE = List.of(
      "s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:AbortMultipartUpload", "s3:ListMultipartUploadParts");

  /** Item reads and writes, including those a TransactWriteItems is authorised by. No Scan. */
  private static final String[] TABLE_READ_WRITE = {
      "dynamodb:GetItem", "dynamodb:BatchGetItem", "dynamodb:Query", "dynamodb:PutItem", "dynamodb:UpdateItem",
      "dynamodb:DeleteItem", "dynamodb:BatchWriteItem", "dynamodb:ConditionCheckItem", "dynamodb:DescribeTable"};
  private static final String[] TABLE_READ = {
      "dynamodb:GetItem", "dynamodb:BatchGetItem", "dynamodb:Query", "dynamodb:DescribeTable"};

  private PipelineAccess() {}

  static void grantCommitter(IFunction fn, PipelineStorage storage, PipelineConfig config) {
    Bucket bucket = storage.bucket();
    fn.addToRolePolicy(objects(OBJECT_READ_WRITE, bucket, storage.appPrefix(), storage.warehousePrefix()));
    fn.addToRolePolicy(listing(bucket, storage.appPrefix(), storage.warehousePrefix()));
    storage.commitTable().grant(fn, TABLE_READ_WRITE);
    storage.stateTable().grant(fn, TABLE_READ_WRITE);
    storage.sinkTables().forEach(table -> table.grant(fn, TABLE_READ_WRITE));
    grantGlueCatalog(fn, config, true);
    grantJobScript(fn, config);
  }

  /**
   * Lets a handler read its own event-source mappings at cold start, to refuse a ParallelizationFactor above 1
   * (DESIGN §5). ListEventSourceMappings has no resource-level permissions: "*" is the only possible resource.
   */
  static void grantMappingRead(IFunction fn) {
    fn.addToRolePolicy(PolicyStatement.Builder.create()
        .actions(List.of("lambda:ListEventSourceMappings"))
        .resources(List.of("*"))
        .build());
  }

  /**
   * A fan-out child (DESIGN §8) stages output as a handler does (files into the table's location and the app's
   * prefix; a table created or a column added at stage time), reads and writes the exchange under the app's prefix,
   * reads the state its partitions need and the commit log (to bring its state cache to the head), but never writes
   * the commit log: only the parent commits.
   */
  static void grantChildExecutor(IFunction fn, PipelineStorage storage, PipelineConfig config) {
    Bucket bucket = storage.bucket();
    fn.addToRolePolicy(objects(OBJECT_READ_WRITE, bucket, storage.appPrefix(), storage.warehousePrefix()));
    fn.addToRolePolicy(listing(bucket, storage.appPrefix(), storage.warehousePrefix()));
    storage.commitTable().grant(fn, TABLE_READ);
    // reads state; writes only the schema items a store registers at init (its deltas go to the parent)
    storage.stateTable().grant(fn, TABLE_READ_WRITE);
    storage.sinkTables().forEach(table -> table.grant(fn, TABLE_READ_WRITE));
    grantGlueCatalog(fn, config, true);
    grantJobScript(fn, config);
  }

  private static PolicyStatement objects(List<String> actions, Bucket bucket, String... prefixes) {
    return PolicyStatement.Builder.create()
        .actions(actions)
        .resources(java.util.Arrays.stream(prefixes).map(p -> bucket.arnForObjects(p + "*")).toList())
        .build();
  }

  private static PolicyStatement listing(Bucket bucket, String... prefixes) {
    List<String> allowed = java.util.Arrays.stream(prefixes)
        .flatMap(p -> java.util.stream.Stream.of(p, p + "*"))
        .toList();
    return PolicyStatement.Builder.create()
        .actions(List.of("s3:ListBucket"))
        .resources(List.of(bucket.getBucketArn()))
        .conditions(Map.of("StringLike", Map.of("s3:prefix", allowed)))
        .build();
  }

  private static void grantGlueCatalog(IFunction fn, PipelineConfig config, boolean write) {
    if (config.sink().format() != SinkFormat.ICEBERG || config.sink().catalog() != CatalogType.GLUE) {
      return;
    }
    String prefix = "arn:" + Aws.PARTITION + ":glue:" + Aws.REGION + ":" + Aws.ACCOUNT_ID + ":";
    String namespace = config.sink().namespace();
    String table = config.sink().table().substring(namespace.length() + 1);
    List<String> actions = write
        ? List.of("glue:GetDatabase", "glue:GetTable", "glue:CreateTable", "glue:UpdateTable")
        : List.of("glue:GetDatabase", "glue:GetTable");
    fn.addToRolePolicy(PolicyStatement.Builder.create()
        .actions(actions)
        .resources(List.of(prefix + "catalog", prefix + "database/" + namespace, prefix + "table/" + namespace + "/" + table))
        .build());
  }

  private static void grantJobScript(IFunction fn, PipelineConfig config) {
    if (!config.job().startsWith("s3://")) {
      return;
    }
    fn.addToRolePolicy(PolicyStatement.Builder.create()
        .actions(List.of("s3:GetObject"))
        .resources(List.of("arn:" + Aws.PARTITION + ":s3:::" + config.job().substring("s3://".length())))
        .build());
  }
}
