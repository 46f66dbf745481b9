package io.spindrift.sink.hudi;

import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
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
 * A lease on one name in a DynamoDB table, as the DynamoDB Lock Client keeps one: an item with an owner, a record
 * version and a duration. It keeps two containers from writing to one Hudi table at once (the check of what the
 * table holds and the write that follows are otherwise two steps, and Hudi's concurrent writers are best not
 * overlapped).
 *
 * <p>No clock of another container is ever read: the holder renews the lease (a new record version, conditional
 * on the one it wrote) every third of its duration while it holds it; a waiter takes the lease over only after
 * it has seen the same record version for longer than the lease's duration on its own monotonic clock (the
 * holder stopped renewing: crashed or frozen), with a put conditional on that version, so exactly one waiter
 * wins. A holder that lost its lease (frozen past the duration) finds out at its next renewal or
 * {@link Held#confirm()}, and the commit itself re-checks under Hudi's table lock. Waiting is bounded by the
 * caller's deadline (the invocation's remaining time).
 */
final class PublishLease {
  static final String KEY = "lease";
  private static final String OWNER = "owner";
  private static final String VERSION = "rvn";
  private static final String DURATION = "duration_ms";
  /**
   * The longest pause between two looks at a held lease: most holds are one publish or its upkeep (under a second),
   * and a waiter that slept longer than the hold would keep the table idle while it sleeps.
   */
  private static final long MAX_PAUSE_MS = 100;

  private final DynamoDbClient dynamo;
  private final String table;
  private final Duration duration;
  private final ScheduledExecutorService renewer;

  PublishLease(DynamoDbClient dynamo, String table, Duration duration) {
    if (duration.toMillis() < 30) {
      throw new IllegalArgumentException("Invalid publish lease duration: " + duration);
    }
    this.dynamo = dynamo;
    this.table = table;
    this.duration = duration;
    this.renewer = Executors.newSingleThreadScheduledExecutor(runnable -> {
      Thread thread = new Thread(runnable, "spindrift-hudi-lease-renewer");
      thread.setDaemon(true);
      return thread;
    });
  }

  /** The holder lost the lease: another container took it over after it stopped renewing. */
  static final class LostException extends IllegalStateException {
    LostException(String message) {
      super(message);
    }
  }

  /** A lease held, and renewed in the background, until {@link #close()}. */
  final class Held implements AutoCloseable {
    private final String name;
    private final String owner;
    private volatile String version;
    private volatile boolean lost;
    private final ScheduledFuture<?> renewal;
    private final boolean freeAtFirstLook;

    private Held(String name, String owner, String version, boolean freeAtFirstLook) {
      this.name = name;
      this.owner = owner;
      this.version = version;
      this.freeAtFirstLook = freeAtFirstLook;
      long period = Math.max(1, duration.toMillis() / 3);
      this.renewal = renewer.scheduleAtFixedRate(this::renewQuietly, period, period, TimeUnit.MILLISECONDS);
    }

    /** Whether nobody held the lease when {@link #acquire} first looked: it was taken without waiting. */
    boolean freeAtFirstLook() {
      return freeAtFirstLook;
    }

    /** Renews the lease now; throws {@link LostException} if another container holds it. */
    synchronized void confirm() {
      if (lost) {
        throw lostException();
      }
      String next = UUID.randomUUID().toString();
      try {
        dynamo.updateItem(b -> b.tableName(table).key(Map.of(KEY, s(name)))
            .updateExpression("SET #v = :next")
            .conditionExpression("#o = :me AND #v = :current")
            .expressionAttributeNames(Map.of("#o", OWNER, "#v", VERSION))
            .expressionAttributeValues(Map.of(":me", s(owner), ":current", s(version), ":next", s(next))));
        version = next;
      } catch (ConditionalCheckFailedException taken) {
        lost = true;
        renewal.cancel(false);
        throw lostException();
      }
    }

    private void renewQuietly() {
      try {
        confirm();
      } catch (RuntimeException e) {
        // lost, or DynamoDB unreachable for a moment: the next renewal or confirm() tells the holder
      }
    }

    private LostException lostException() {
      return new LostException("Publish lease on " + name + " (DynamoDB table " + table + ") was taken over by"
          + " another container: this one stopped renewing it for longer than " + duration.toMillis() + " ms");
    }

    @Override
    public void close() {
      renewal.cancel(false);
      synchronized (this) {
        try {
          dynamo.deleteItem(b -> b.tableName(table).key(Map.of(KEY, s(name)))
              .conditionExpression("#o = :me").expressionAttributeNames(Map.of("#o", OWNER))
              .expressionAttributeValues(Map.of(":me", s(owner))));
        } catch (ConditionalCheckFailedException lapsed) {
          // taken over by another container: nothing of ours to give back
        }
      }
    }
  }

  /**
   * Takes the lease on {@code name}, waiting for a holder to give it back or to stop renewing it, until
   * {@code deadline} ({@link System#nanoTime()} scale).
   *
   * @throws IllegalStateException naming the lease and the holder when the deadline passes first
   */
  Held acquire(String name, long deadline) {
    String owner = UUID.randomUUID().toString();
    String observedVersion = null;
    long observedSince = 0;
    boolean firstLook = true;
    for (long pause = 20; ; pause = Math.min(pause * 2, MAX_PAUSE_MS)) {
      String version = UUID.randomUUID().toString();
      Map<String, AttributeValue> item = Map.of(KEY, s(name), OWNER, s(owner), VERSION, s(version),
          DURATION, AttributeValue.fromN(Long.toString(duration.toMillis())));
      if (firstLook) {
        // most publishes find the lease free: take it in one request, and read the holder only when there is one
        firstLook = false;
        try {
          putIfFree(item);
          return new Held(name, owner, version, true);
        } catch (ConditionalCheckFailedException held) {
          // someone holds it: whoever it is, the lease is no longer free at first look
        }
      }
      Map<String, AttributeValue> current = dynamo.getItem(b -> b.tableName(table).consistentRead(true)
          .key(Map.of(KEY, s(name)))).item();
      try {
        if (current == null || current.isEmpty()) {
          putIfFree(item);
          return new Held(name, owner, version, false);
        }
        String held = current.containsKey(VERSION) ? current.get(VERSION).s() : "";
        long now = System.nanoTime();
        if (!held.equals(observedVersion)) {
          observedVersion = held;
          observedSince = now;
        } else if (now - observedSince > TimeUnit.MILLISECONDS.toNanos(heldDuration(current))) {
          // not renewed for a whole lease on our own clock: the holder is gone; one waiter wins the takeover
          dynamo.putItem(b -> b.tableName(table).item(item).conditionExpression(held.isEmpty()
                  ? "attribute_not_exists(#v) AND #o = :owner" : "#v = :held")
              .expressionAttributeNames(held.isEmpty() ? Map.of("#v", VERSION, "#o", OWNER) : Map.of("#v", VERSION))
              .expressionAttributeValues(held.isEmpty() ? Map.of(":owner", current.get(OWNER))
                  : Map.of(":held", s(held))));
          return new Held(name, owner, version, false);
        }
      } catch (ConditionalCheckFailedException raced) {
        // another container took or renewed it first: look again
      }
      long left = TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime());
      if (left <= 0) {
        throw new IllegalStateException("Publish lease on " + name + " (DynamoDB table " + table + ") is held by"
            + " another container (" + (current == null ? "?" : current.get(OWNER).s()) + ") until past this"
            + " invocation's deadline; the publish is retried by a later invocation");
      }
      sleep(Math.min(pause, left));
    }
  }

  /** Takes the lease on {@code name} if nobody holds it (one request); empty if someone does. */
  Optional<Held> tryAcquire(String name) {
    String owner = UUID.randomUUID().toString();
    String version = UUID.randomUUID().toString();
    try {
      putIfFree(Map.of(KEY, s(name), OWNER, s(owner), VERSION, s(version),
          DURATION, AttributeValue.fromN(Long.toString(duration.toMillis()))));
      return Optional.of(new Held(name, owner, version, true));
    } catch (ConditionalCheckFailedException held) {
      return Optional.empty();
    }
  }

  private void putIfFree(Map<String, AttributeValue> item) {
    dynamo.putItem(b -> b.tableName(table).item(item).conditionExpression("attribute_not_exists(#k)")
        .expressionAttributeNames(Map.of("#k", KEY)));
  }

  /** The duration the holder declared (an item written before durations were recorded counts as five minutes). */
  private static long heldDuration(Map<String, AttributeValue> item) {
    AttributeValue value = item.get(DURATION);
    return value == null ? Duration.ofMinutes(5).toMillis() : Long.parseLong(value.n());
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

  private static void sleep(long millis) {
    try {
      Thread.sleep(millis);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("Interrupted while waiting for a publish lease", e);
    }
  }
}
