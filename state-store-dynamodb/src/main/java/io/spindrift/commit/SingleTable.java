package io.spindrift.commit;

import software.amazon.awssdk.services.dynamodb.DynamoDbClient;
import software.amazon.awssdk.services.dynamodb.model.AttributeDefinition;
import software.amazon.awssdk.services.dynamodb.model.BillingMode;
import software.amazon.awssdk.services.dynamodb.model.KeySchemaElement;
import software.amazon.awssdk.services.dynamodb.model.KeyType;
import software.amazon.awssdk.services.dynamodb.model.ResourceInUseException;
import software.amazon.awssdk.services.dynamodb.model.ResourceNotFoundException;
import software.amazon.awssdk.services.dynamodb.model.ScalarAttributeType;

/**
 * The on-demand DynamoDB table layout Spindrift's durable state uses: a string partition key {@code pk} and a
 * sort key {@code sk}. The CDK app creates these tables in AWS; local stacks start empty, so code creates them.
 */
public final class SingleTable {
  private SingleTable() {}

  /** Creates {@code table} unless it exists, and waits for it; true if this call (not another container) made it. */
  public static boolean ensure(DynamoDbClient dynamo, String table, ScalarAttributeType sortKeyType) {
    try {
      dynamo.describeTable(b -> b.tableName(table));
      return false;
    } catch (ResourceNotFoundException absent) {
      // created below
    }
    boolean created = true;
    try {
      dynamo.createTable(b -> b.tableName(table)
          .billingMode(BillingMode.PAY_PER_REQUEST)
          .attributeDefinitions(
              AttributeDefinition.builder().attributeName("pk").attributeType(ScalarAttributeType.S).build(),
              AttributeDefinition.builder().attributeName("sk").attributeType(sortKeyType).build())
          .keySchema(
              KeySchemaElement.builder().attributeName("pk").keyType(KeyType.HASH).build(),
              KeySchemaElement.builder().attributeName("sk").keyType(KeyType.RANGE).build()));
    } catch (ResourceInUseException raced) {
      created = false;
    }
    dynamo.waiter().waitUntilTableExists(b -> b.tableName(table));
    return created;
  }
}
