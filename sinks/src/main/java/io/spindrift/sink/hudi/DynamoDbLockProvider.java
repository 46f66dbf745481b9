package io.spindrift.sink.hudi;

import com.amazonaws.services.dynamodbv2.LockItem;
import java.util.Deque;
import java.util.Map;
import java.util.Properties;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedDeque;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.TimeUnit;
import org.apache.hudi.aws.transaction.lock.DynamoDBBasedLockProvider;
import org.apache.hudi.common.config.LockConfiguration;
import org.apache.hudi.common.lock.LockProvider;
import org.apache.hudi.storage.StorageConfiguration;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;

/**
 * Hudi's table lock on DynamoDB, as Hudi's {@link DynamoDBBasedLockProvider} takes it (one lock item per table,
 * acquired with a conditional put, released with a delete), through providers kept warm per container. Hudi
 * instantiates this class from {@code hoodie.write.lock.provider} for every commit and closes it on unlock; a
 * Hudi provider built that often would build a DynamoDB client and describe the lock table every time. So each
 * instance borrows an idle Hudi provider of the same lock settings from the container's pool (building one only
 * when none is idle: the first commit, or commits holding the lock at the same time) and gives it back on
 * {@link #close()} once its lock is released. Every {@code tryLock}/{@code unlock} still goes to DynamoDB: only the
 * client and the table check are reused, never a lock. A provider whose lock could not be released is closed (which
 * releases it, as Hudi's close does) instead of given back.
 *
 * <p>The pool is static because Hudi builds providers by class name with a fixed constructor; it holds at most as
 * many providers per lock settings as this JVM ever held locks at once.
 *
 * <p>The Hudi providers use a DynamoDB client Spindrift builds: Hudi's own sets no region (it relies on
 * {@code AWS_REGION}) and no HTTP client (the SDK refuses to choose when, as in the Lambda jar, several are on the
 * class path).
 */
public final class DynamoDbLockProvider implements LockProvider<LockItem> {
  static final String TABLE = "hoodie.write.lock.dynamodb.table";
  static final String PARTITION_KEY = "hoodie.write.lock.dynamodb.partition_key";
  static final String REGION = "hoodie.write.lock.dynamodb.region";
  static final String ENDPOINT = "hoodie.write.lock.dynamodb.endpoint_url";
  static final String ACCESS_KEY = "hoodie.aws.access.key";
  static final String SECRET_KEY = "hoodie.aws.secret.key";

  /** Idle Hudi providers by lock settings ({@link #settingsKey}). */
  private static final ConcurrentMap<String, Deque<WarmProvider>> IDLE = new ConcurrentHashMap<>();

  private final String settings;
  private final WarmProvider provider;
  private boolean closed;

  public DynamoDbLockProvider(LockConfiguration config, StorageConfiguration<?> storage) {
    this.settings = settingsKey(config.getConfig());
    WarmProvider idle = IDLE.computeIfAbsent(settings, k -> new ConcurrentLinkedDeque<>()).pollFirst();
    this.provider = idle != null ? idle : new WarmProvider(config, storage);
  }

  @Override
  public boolean tryLock(long time, TimeUnit unit) {
    return provider.tryLock(time, unit);
  }

  @Override
  public void unlock() {
    provider.unlock();
  }

  @Override
  public LockItem getLock() {
    return provider.getLock();
  }

  /** Gives the Hudi provider back to the pool, or closes it if it still holds its lock (an unlock that failed). */
  @Override
  public synchronized void close() {
    if (closed) {
      return;
    }
    closed = true;
    if (provider.getLock() == null) {
      IDLE.get(settings).offerFirst(provider);
    } else {
      provider.close();
    }
  }

  /** Idle providers of {@code config}'s lock settings: how many this container keeps warm (for tests). */
  static int idle(Properties config) {
    Deque<WarmProvider> idle = IDLE.get(settingsKey(config));
    return idle == null ? 0 : idle.size();
  }

  /** Whether this instance borrowed {@code other}'s Hudi provider (for tests). */
  boolean sharesProviderWith(DynamoDbLockProvider other) {
    return provider == other.provider;
  }

  /** Everything that makes two providers interchangeable: the lock's table, item, endpoint, credentials, timings. */
  private static String settingsKey(Properties props) {
    Map<String, String> relevant = new TreeMap<>();
    props.stringPropertyNames().stream()
        .filter(key -> key.startsWith("hoodie.write.lock.") || key.startsWith("hoodie.aws."))
        .forEach(key -> relevant.put(key, props.getProperty(key)));
    return relevant.toString();
  }

  /** Hudi's provider on Spindrift's DynamoDB client, closed with it. */
  private static final class WarmProvider extends DynamoDBBasedLockProvider {
    private final DynamoDbClient dynamo;

    WarmProvider(LockConfiguration config, StorageConfiguration<?> storage) {
      this(config, storage, client(config.getConfig()));
    }

    private WarmProvider(LockConfiguration config, StorageConfiguration<?> storage, DynamoDbClient dynamo) {
      super(config, storage, dynamo);
      this.dynamo = dynamo;
    }

    @Override
    public void close() {
      try {
        super.close();
      } finally {
        dynamo.close();
      }
    }

    private static DynamoDbClient client(Properties props) {
      return AwsSettings.dynamoDb(props.getProperty(REGION, "us-east-1"), props.getProperty(ENDPOINT),
          AwsSettings.credentials(props.getProperty(ACCESS_KEY), props.getProperty(SECRET_KEY, "")));
    }
  }
}
