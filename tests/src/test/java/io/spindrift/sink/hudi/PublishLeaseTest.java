package io.spindrift.sink.hudi;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.spindrift.examples.LocalPipeline;
import io.spindrift.local.LocalStack;
import io.spindrift.runtime.AwsClients;
import java.time.Duration;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;
import software.amazon.awssdk.services.dynamodb.model.AttributeValue;

/**
 * The Hudi publish lease on DynamoDB Local: renewed while held, taken over only after its holder stopped renewing
 * for a whole lease on the waiter's own clock (never by comparing clocks), and waits bounded by the caller's
 * deadline.
 */
class PublishLeaseTest {
  private static final String TABLE = "spindrift_hudi_publish_it";
  private static DynamoDbClient dynamo;

  @BeforeAll
  static void client() {
    dynamo = AwsClients.dynamoDb(LocalPipeline.config(LocalStack.shared(), Map.of()));
    new PublishLease(dynamo, TABLE, Duration.ofSeconds(1)).ensureTable();
  }

  @AfterAll
  static void close() {
    dynamo.close();
  }

  private static long in(Duration wait) {
    return System.nanoTime() + wait.toNanos();
  }

  private static String name() {
    return "s3a://spindrift/warehouse/it/" + UUID.randomUUID();
  }

  @Test
  void aHeldLeaseIsRenewedSoAWaiterGivesUpAtItsDeadlineLongAfterTheLeaseDuration() {
    PublishLease lease = new PublishLease(dynamo, TABLE, Duration.ofMillis(600));
    String name = name();
    try (PublishLease.Held held = lease.acquire(name, in(Duration.ofSeconds(5)))) {
      long start = System.nanoTime();
      assertThatThrownBy(() -> new PublishLease(dynamo, TABLE, Duration.ofMillis(600))
          .acquire(name, in(Duration.ofMillis(2_500))))
          .hasMessageContaining("held by another container").hasMessageContaining(TABLE);
      long waited = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
      assertThat(waited).as("bounded by the deadline").isBetween(2_400L, 4_500L);
      held.confirm();
    }
  }

  @Test
  void aLeaseWhoseHolderStoppedRenewingIsTakenOverAfterItsDurationWhateverItsClockSaid() {
    String name = name();
    // a holder from a container whose clock is a day ahead (and an item as the old lease wrote it), then frozen
    dynamo.putItem(b -> b.tableName(TABLE).item(Map.of(PublishLease.KEY, AttributeValue.fromS(name),
        "owner", AttributeValue.fromS("frozen"), "rvn", AttributeValue.fromS("v1"),
        "duration_ms", AttributeValue.fromN("800"),
        "expires_ms", AttributeValue.fromN(Long.toString(System.currentTimeMillis() + 86_400_000L)))));
    long start = System.nanoTime();

    try (PublishLease.Held held = new PublishLease(dynamo, TABLE, Duration.ofSeconds(1))
        .acquire(name, in(Duration.ofSeconds(10)))) {
      long waited = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
      assertThat(waited).isBetween(800L, 5_000L);
      held.confirm();
    }
  }

  @Test
  void aHolderWhoseLeaseWasTakenOverFindsOutBeforeCommitting() {
    String name = name();
    PublishLease.Held held = new PublishLease(dynamo, TABLE, Duration.ofSeconds(5)).acquire(name, in(Duration.ofSeconds(5)));
    // another container took it over (as after this one was frozen past the lease)
    dynamo.putItem(b -> b.tableName(TABLE).item(Map.of(PublishLease.KEY, AttributeValue.fromS(name),
        "owner", AttributeValue.fromS("other"), "rvn", AttributeValue.fromS("v9"),
        "duration_ms", AttributeValue.fromN("5000"))));

    assertThatThrownBy(held::confirm).isInstanceOf(PublishLease.LostException.class)
        .hasMessageContaining("taken over");
    held.close();
    assertThat(dynamo.getItem(b -> b.tableName(TABLE).key(Map.of(PublishLease.KEY, AttributeValue.fromS(name))))
        .item().get("owner").s()).as("closing a lost lease leaves the new holder's").isEqualTo("other");
  }

  @Test
  void aLeaseGivenBackIsTakenAtOnce() {
    String name = name();
    PublishLease lease = new PublishLease(dynamo, TABLE, Duration.ofSeconds(30));
    lease.acquire(name, in(Duration.ofSeconds(1))).close();
    long start = System.nanoTime();
    lease.acquire(name, in(Duration.ofSeconds(1))).close();
    assertThat(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start)).isLessThan(1_000L);
  }

  @Test
  void aLeaseIsFreeAtFirstLookOnlyWhenNobodyHeldItWhenTheWaiterFirstAsked() throws Exception {
    String name = name();
    PublishLease lease = new PublishLease(dynamo, TABLE, Duration.ofSeconds(30));
    try (PublishLease.Held free = lease.acquire(name, in(Duration.ofSeconds(1)))) {
      assertThat(free.freeAtFirstLook()).isTrue();
    }
    PublishLease.Held holder = lease.acquire(name, in(Duration.ofSeconds(1)));
    Thread release = new Thread(() -> {
      try {
        Thread.sleep(300);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      holder.close();
    });
    release.start();
    try (PublishLease.Held waited = lease.acquire(name, in(Duration.ofSeconds(10)))) {
      assertThat(waited.freeAtFirstLook()).as("another holder may have published meanwhile").isFalse();
    }
    release.join();
  }
}
