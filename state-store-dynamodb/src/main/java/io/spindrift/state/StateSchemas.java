package io.spindrift.state;

import static io.spindrift.state.StateItems.n;
import static io.spindrift.state.StateItems.s;

import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;
import software.amazon.awssdk.services.dynamodb.model.AttributeValue;
import software.amazon.awssdk.services.dynamodb.model.ConditionalCheckFailedException;

/**
 * The key and value schemas of an app's state stores, kept with the durable state: a fresh checkpoint loses Spark's
 * own compatibility check, so the first schema recorded for an operator's store is the one every later query is
 * checked against. The first writer wins a race; each store costs one read per container.
 */
final class StateSchemas {
  private final DynamoDbClient dynamo;
  private final String table;
  private final StateItems items;
  private final StateIo io;
  private final Map<String, StoreSchema> schemas = new ConcurrentHashMap<>();

  StateSchemas(DynamoDbClient dynamo, String table, StateItems items, StateIo io) {
    this.dynamo = dynamo;
    this.table = table;
    this.items = items;
    this.io = io;
  }

  /** The schema recorded for {@code proposed}'s operator and store, or {@code proposed}, recorded now if none was. */
  StoreSchema register(StoreSchema proposed) {
    String sk = "OP#" + proposed.operatorId() + "#STORE#" + proposed.storeName();
    return schemas.computeIfAbsent(sk, key -> read(key).orElseGet(() -> record(key, proposed)));
  }

  private Optional<StoreSchema> read(String sk) {
    Map<String, AttributeValue> item = dynamo.getItem(b -> b.tableName(table).consistentRead(true)
        .key(items.schemaKey(sk))).item();
    io.metaReads.incrementAndGet();
    if (item == null || item.isEmpty()) {
      return Optional.empty();
    }
    return Optional.of(new StoreSchema(Long.parseLong(item.get("operator").n()), item.get("store").s(),
        item.get("keySchema").s(), item.get("valueSchema").s(), Integer.parseInt(item.get("prefixColumns").n())));
  }

  private StoreSchema record(String sk, StoreSchema schema) {
    Map<String, AttributeValue> item = new HashMap<>(items.schemaKey(sk));
    item.put("operator", n(schema.operatorId()));
    item.put("store", s(schema.storeName()));
    item.put("keySchema", s(schema.keySchemaJson()));
    item.put("valueSchema", s(schema.valueSchemaJson()));
    item.put("prefixColumns", n(schema.numColsPrefixKey()));
    try {
      dynamo.putItem(b -> b.tableName(table).item(item).conditionExpression("attribute_not_exists(pk)"));
      return schema;
    } catch (ConditionalCheckFailedException raced) {
      return read(sk).orElseThrow();
    }
  }
}
