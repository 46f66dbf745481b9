package io.spindrift.commit;

import java.util.HashMap;
import java.util.Map;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;
import software.amazon.awssdk.services.dynamodb.model.AttributeValue;
import software.amazon.awssdk.services.dynamodb.model.ConditionalCheckFailedException;

/**
 * The {@link PublishClaim} as one item of the commit log's table, {@code APP#<app>/PUBLISH_CLAIM} {owner, through,
 * expiresAtMs}: taken with a put conditioned on the item being absent or expired on the claimer's clock, renewed
 * and released with writes conditioned on the owner. A failed condition is an answer (false, or nothing to
 * release), never an error.
 */
public final class DynamoDbPublishClaim implements PublishClaim {
  private static final String SK = "PUBLISH_CLAIM";
  private final DynamoDbClient dynamo;
  private final String table;

  /** The claim kept in {@code table}, the commit log's table ({@link DynamoDbCommitLog#table()}). */
  public DynamoDbPublishClaim(DynamoDbClient dynamo, String table) {
    this.dynamo = dynamo;
    this.table = table;
  }

  @Override
  public Claim read(String app) {
    Map<String, AttributeValue> item = dynamo.getItem(b -> b.tableName(table).key(key(app)).consistentRead(true))
        .item();
    if (item == null || item.isEmpty()) {
      return null;
    }
    long expiresAtMs = Long.parseLong(item.get("expiresAtMs").n());
    return new Claim(item.get("owner").s(), Long.parseLong(item.get("through").n()), expiresAtMs,
        expiresAtMs < System.currentTimeMillis());
  }

  @Override
  public boolean tryTake(String app, String owner, long through, long durationMs) {
    long now = System.currentTimeMillis();
    Map<String, AttributeValue> item = new HashMap<>(key(app));
    item.put("owner", DynamoDbCommitLog.s(owner));
    item.put("through", DynamoDbCommitLog.n(through));
    item.put("expiresAtMs", DynamoDbCommitLog.n(now + durationMs));
    try {
      dynamo.putItem(b -> b.tableName(table).item(item)
          .conditionExpression("attribute_not_exists(pk) OR expiresAtMs < :now")
          .expressionAttributeValues(Map.of(":now", DynamoDbCommitLog.n(now))));
      return true;
    } catch (ConditionalCheckFailedException held) {
      return false;
    }
  }

  @Override
  public boolean renew(String app, String owner, long durationMs) {
    try {
      dynamo.updateItem(b -> b.tableName(table).key(key(app))
          .updateExpression("SET expiresAtMs = :until")
          .conditionExpression("#owner = :me")
          .expressionAttributeNames(Map.of("#owner", "owner"))
          .expressionAttributeValues(Map.of(":me", DynamoDbCommitLog.s(owner),
              ":until", DynamoDbCommitLog.n(System.currentTimeMillis() + durationMs))));
      return true;
    } catch (ConditionalCheckFailedException takenOver) {
      return false;
    }
  }

  @Override
  public void release(String app, String owner) {
    try {
      dynamo.deleteItem(b -> b.tableName(table).key(key(app))
          .conditionExpression("#owner = :me")
          .expressionAttributeNames(Map.of("#owner", "owner"))
          .expressionAttributeValues(Map.of(":me", DynamoDbCommitLog.s(owner))));
    } catch (ConditionalCheckFailedException takenOver) {
      // expired and taken over while this owner published: the new holder releases it
    }
  }

  private static Map<String, AttributeValue> key(String app) {
    return Map.of("pk", DynamoDbCommitLog.s(DynamoDbCommitLog.pk(app)), "sk", DynamoDbCommitLog.s(SK));
  }
}
