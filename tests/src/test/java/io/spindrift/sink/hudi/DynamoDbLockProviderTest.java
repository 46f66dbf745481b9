package io.spindrift.sink.hudi;

import static org.assertj.core.api.Assertions.assertThat;

import io.spindrift.config.Setting;
import io.spindrift.config.SpindriftConfig;
import io.spindrift.examples.LocalPipeline;
import io.spindrift.local.LocalStack;
import io.spindrift.runtime.AwsClients;
import java.util.Map;
import java.util.Properties;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.apache.hadoop.conf.Configuration;
import org.apache.hudi.common.config.LockConfiguration;
import org.apache.hudi.hadoop.fs.HadoopFSUtils;
import org.apache.hudi.storage.StorageConfiguration;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;
import software.amazon.awssdk.services.dynamodb.model.AttributeValue;

/**
 * Hudi's DynamoDB table lock through the container's warm providers (DynamoDB Local): a provider Hudi builds for a
 * commit borrows the idle one a previous commit gave back, a provider is never shared while it holds the lock, and
 * every lock is still taken and released in DynamoDB (the lock item exists exactly while it is held).
 */
class DynamoDbLockProviderTest {
  private static final StorageConfiguration<?> STORAGE = HadoopFSUtils.getStorageConf(new Configuration());
  private static final SpindriftConfig CONFIG = LocalPipeline.config(LocalStack.shared(), Map.of());

  private static LockConfiguration lockConfig(String table) {
    Properties props = new Properties();
    props.setProperty(DynamoDbLockProvider.TABLE, CONFIG.get(Setting.HUDI_LOCK_TABLE));
    props.setProperty(DynamoDbLockProvider.PARTITION_KEY, table);
    props.setProperty(DynamoDbLockProvider.REGION, CONFIG.get(Setting.REGION));
    props.setProperty(DynamoDbLockProvider.ENDPOINT, CONFIG.get(Setting.DYNAMODB_ENDPOINT));
    props.setProperty(DynamoDbLockProvider.ACCESS_KEY, CONFIG.get(Setting.ACCESS_KEY));
    props.setProperty(DynamoDbLockProvider.SECRET_KEY, CONFIG.get(Setting.SECRET_KEY));
    return new LockConfiguration(props);
  }

  /** Whether the lock item of {@code table} is in DynamoDB: the lock is held. */
  private static boolean held(String table) {
    try (DynamoDbClient dynamo = AwsClients.dynamoDb(CONFIG)) {
      return dynamo.getItem(b -> b.tableName(CONFIG.get(Setting.HUDI_LOCK_TABLE)).consistentRead(true)
          .key(Map.of("key", AttributeValue.fromS(table)))).hasItem();
    }
  }

  @Test
  void aReleasedProviderIsReusedAndEveryLockIsStillTakenInDynamoDb() {
    String table = "s3a://spindrift/warehouse/it/" + UUID.randomUUID();
    LockConfiguration config = lockConfig(table);
    DynamoDbLockProvider first = new DynamoDbLockProvider(config, STORAGE);
    assertThat(first.tryLock(1, TimeUnit.SECONDS)).isTrue();
    assertThat(held(table)).isTrue();

    DynamoDbLockProvider second = new DynamoDbLockProvider(config, STORAGE);
    assertThat(second.sharesProviderWith(first)).as("a provider holding a lock is not lent").isFalse();
    second.close();

    first.unlock();
    assertThat(held(table)).isFalse();
    first.close();
    assertThat(DynamoDbLockProvider.idle(config.getConfig())).isEqualTo(2);

    DynamoDbLockProvider third = new DynamoDbLockProvider(config, STORAGE);
    assertThat(third.sharesProviderWith(first)).as("the provider released last").isTrue();
    assertThat(third.tryLock(1, TimeUnit.SECONDS)).isTrue();
    assertThat(held(table)).isTrue();
    third.unlock();
    third.close();
    assertThat(held(table)).isFalse();
    assertThat(DynamoDbLockProvider.idle(config.getConfig())).isEqualTo(2);
  }

  @Test
  void aProviderClosedWhileHoldingItsLockReleasesItAndIsNotReused() {
    String table = "s3a://spindrift/warehouse/it/" + UUID.randomUUID();
    LockConfiguration config = lockConfig(table);
    DynamoDbLockProvider holder = new DynamoDbLockProvider(config, STORAGE);
    assertThat(holder.tryLock(1, TimeUnit.SECONDS)).isTrue();
    holder.close();
    assertThat(held(table)).as("released by the close").isFalse();
    assertThat(DynamoDbLockProvider.idle(config.getConfig())).isZero();

    DynamoDbLockProvider next = new DynamoDbLockProvider(config, STORAGE);
    assertThat(next.sharesProviderWith(holder)).isFalse();
    assertThat(next.tryLock(1, TimeUnit.SECONDS)).isTrue();
    next.unlock();
    next.close();
  }
}
