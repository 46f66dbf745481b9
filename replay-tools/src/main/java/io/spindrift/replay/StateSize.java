package io.spindrift.replay;

import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;
import software.amazon.awssdk.services.dynamodb.model.AttributeValue;

/**
 * How much state an app keeps in its DynamoDB state table (for {@code status}): rows, buckets (state partitions of
 * an operator) and bytes of keys and values, with the rows whose value lives in S3 counted apart. One scan of the
 * table filtered on the app's key prefix: DynamoDB keeps no size per key prefix, so this reads every item of the
 * table (fine for status, not for a hot path).
 */
public record StateSize(long rows, long buckets, long bytes, long spilledRows) {
  public static StateSize of(DynamoDbClient dynamo, String table, String app) {
    String prefix = "APP#" + app + "#OP#";
    long rows = 0;
    long bytes = 0;
    long spilled = 0;
    Set<String> buckets = new HashSet<>();
    try {
      for (Map<String, AttributeValue> item : dynamo.scanPaginator(b -> b.tableName(table)
          .filterExpression("begins_with(pk, :prefix)")
          .expressionAttributeValues(Map.of(":prefix", AttributeValue.builder().s(prefix).build()))).items()) {
        byte[] sk = item.get("sk").b().asByteArray();
        if (sk.length == 0 || sk[0] == 0) {
          continue; // a bucket's marker
        }
        buckets.add(item.get("pk").s());
        rows++;
        AttributeValue value = item.get("v");
        bytes += sk.length - 1 + (value == null ? 0 : value.b().asByteArray().length);
        spilled += value == null ? 1 : 0;
      }
    } catch (software.amazon.awssdk.services.dynamodb.model.ResourceNotFoundException missing) {
      return new StateSize(0, 0, 0, 0);
    }
    return new StateSize(rows, buckets.size(), bytes, spilled);
  }
}
