package io.spindrift.dynamodb;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;
import software.amazon.awssdk.services.dynamodb.model.AttributeValue;
import software.amazon.awssdk.services.dynamodb.model.BatchGetItemResponse;
import software.amazon.awssdk.services.dynamodb.model.KeysAndAttributes;
import software.amazon.awssdk.services.dynamodb.model.QueryRequest;
import software.amazon.awssdk.services.dynamodb.model.QueryResponse;

/**
 * The two DynamoDB read loops the commit log and the state table share: a consistent batch get of any number of
 * keys (100 per request, unprocessed keys asked again until none are left) and a consistent query over every page.
 * Each call reports every request it made to {@code onRequest}, so callers can count their I/O.
 */
public final class ItemReads {
  /** DynamoDB's limit on keys per BatchGetItem. */
  public static final int BATCH_GET_ITEMS = 100;

  private ItemReads() {}

  /**
   * Reads the items at {@code keys} (absent items are left out) with consistent reads; {@code projection} (null
   * for every attribute) limits what is returned.
   */
  public static List<Map<String, AttributeValue>> batchGet(DynamoDbClient dynamo, String table,
      List<Map<String, AttributeValue>> keys, String projection, Runnable onRequest) {
    List<Map<String, AttributeValue>> items = new ArrayList<>();
    for (int from = 0; from < keys.size(); from += BATCH_GET_ITEMS) {
      KeysAndAttributes.Builder request = KeysAndAttributes.builder()
          .keys(keys.subList(from, Math.min(keys.size(), from + BATCH_GET_ITEMS))).consistentRead(true);
      if (projection != null) {
        request.projectionExpression(projection);
      }
      Map<String, KeysAndAttributes> pending = Map.of(table, request.build());
      while (!pending.isEmpty()) {
        Map<String, KeysAndAttributes> asked = pending;
        BatchGetItemResponse response = dynamo.batchGetItem(b -> b.requestItems(asked));
        onRequest.run();
        items.addAll(response.responses().getOrDefault(table, List.of()));
        pending = response.unprocessedKeys();
      }
    }
    return items;
  }

  /** Runs {@code query} (made consistent here) over every page, handing each page to {@code onPage}. */
  public static void queryAll(DynamoDbClient dynamo, QueryRequest query, Consumer<QueryResponse> onPage) {
    Map<String, AttributeValue> start = null;
    do {
      QueryResponse page = dynamo.query(query.toBuilder().consistentRead(true).exclusiveStartKey(start).build());
      onPage.accept(page);
      start = page.hasLastEvaluatedKey() && !page.lastEvaluatedKey().isEmpty() ? page.lastEvaluatedKey() : null;
    } while (start != null);
  }
}
