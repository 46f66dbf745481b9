package io.spindrift.sink.hudi;

import java.time.Duration;
import java.util.Map;
import java.util.UUID;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;
import software.amazon.awssdk.services.dynamodb.model.AttributeDefinition;
import software.amazon.awssdk.services.dynamodb.model.AttributeValue;
import software.amazon.awssdk.services.dynamodb.model.BillingMode;
import software.amazon.awssdk.services.dynamodb.model.ConditionalCheckFailedException;
import software.amazon.awssdk.services.dynamodb.model.CreateTableRequest;
import software.amazon.awssdk.services.dynamodb.model.DescribeTableRequest;
import software.amazon.awssdk.services.dynamodb.model.KeySchemaElement;
import software.amazon.awssdk.services.dynamodb.model.KeyType;
import software.amazon.awssdk.services.dynamodb.model.ResourceInUseException;
import software.amazon.awssdk.services.dynamodb.model.ResourceNotFoundException;
import software.amazon.awssdk.services.dynamodb.model.ScalarAttributeType;
import software.amazon.awssdk.services.dynamodb.model.TableStatus;

/**
 * A lease on one name in a DynamoDB table, taken with a conditional put and given back with a conditional delete.
 * It keeps two containers from writing to one Hudi table at once (the check of what the table holds and the write
 * that follows are otherwise two steps, and Hudi's concurrent writers are best not overlapped). A lease not given back (a crashed container)
 * lapses after its duration. It only saves wasted writes: the commit itself re-checks under Hudi's table lock.
 */
final class PublishLease {
  static final String KEY = "lease";
  private static final String OWNER = "owner";
  private static final String EXPIRES = "expires_ms";

  private final DynamoDbClient dynamo;
  private final String table;
  private final Duration duration;
  private final Duration wait;

  PublishLease(DynamoDbClient dynamo, String table, Duration duration, Duration wait) {
    this.dynamo = dynamo;
    this.table = table;
    this.duration = duration;
    this.wait = wait;
  }

  /** A lease held until {@link #close()}. */
  final class Held implements AutoCloseable {
    private final String name;
    private final String owner;

    private Held(String name, String owner) {
      this.name = name;
      this.owner = owner;
    }

    @Override
    public void close() {
      try {
        dynamo.deleteItem(b -> b.tableName(table).key(Map.of(KEY, s(name)))
            .conditionExpression("#o = :me").expressionAttributeNames(Map.of("#o", OWNER))
            .expressionAttributeValues(Map.of(":me", s(owner))));
      } catch (ConditionalCheckFailedException lapsed) {
        // the lease lapsed and another container holds it now: nothing of ours to give back
      }
    }
  }

  /** Takes the lease on {@code name}, waiting for a holder to give it back or for its lease to lapse. */
  Held acquire(String name) {
    String owner = UUID.randomUUID().toString();
    long deadline = System.currentTimeMillis() + wait.toMillis();
    for (long pause = 50; ; pause = Math.min(pause * 2, 1_000)) {
      long now = System.currentTimeMillis();
      try {
        dynamo.putItem(b -> b.tableName(table)
            .item(Map.of(KEY, s(name), OWNER, s(owner), EXPIRES, n(now + duration.toMillis())))
            .conditionExpression("attribute_not_exists(#k) OR #e < :now")
            .expressionAttributeNames(Map.of("#k", KEY, "#e", EXPIRES))
            .expressionAttributeValues(Map.of(":now", n(now))));
        return new Held(name, owner);
      } catch (ConditionalCheckFailedException held) {
        if (now + pause > deadline) {
          throw new IllegalStateException("Publish lease on " + name + " (DynamoDB table " + table
              + ") is still held by another container after " + wait.toSeconds() + " s", held);
        }
        sleep(pause);
      }
    }
  }

  /** Creates the lease table when it does not exist (several containers may race to). */
  void ensureTable() {
    ensureTable(dynamo, table, KEY);
  }

  static void ensureTable(DynamoDbClient dynamo, String table, String key) {
    long deadline = System.currentTimeMillis() + 120_000;
    while (!isActive(dynamo, table, key)) {
      if (System.currentTimeMillis() > deadline) {
        throw new IllegalStateException("DynamoDB table " + table + " did not become active within 120 s");
      }
      sleep(250);
    }
  }

  /** True once {@code table} is active; creates it when it does not exist. */
  private static boolean isActive(DynamoDbClient dynamo, String table, String key) {
    try {
      return dynamo.describeTable(DescribeTableRequest.builder().tableName(table).build()).table().tableStatus()
          == TableStatus.ACTIVE;
    } catch (ResourceNotFoundException missing) {
      try {
        dynamo.createTable(CreateTableRequest.builder().tableName(table).billingMode(BillingMode.PAY_PER_REQUEST)
            .keySchema(KeySchemaElement.builder().attributeName(key).keyType(KeyType.HASH).build())
            .attributeDefinitions(AttributeDefinition.builder().attributeName(key)
                .attributeType(ScalarAttributeType.S).build())
            .build());
      } catch (ResourceInUseException raced) {
        // another container created it first
      }
      return false;
    }
  }

  private static AttributeValue s(String value) {
    return AttributeValue.builder().s(value).build();
  }

  private static AttributeValue n(long value) {
    return AttributeValue.builder().n(Long.toString(value)).build();
  }

  private static void sleep(long millis) {
    try {
      Thread.sleep(millis);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("Interrupted while waiting for a publish lease", e);
    }
  }
}
