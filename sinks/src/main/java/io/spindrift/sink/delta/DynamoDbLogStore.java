package io.spindrift.sink.delta;

import io.delta.storage.HadoopFileSystemLogStore;
import io.delta.storage.internal.S3LogStoreUtil;
import java.io.FileNotFoundException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.time.Instant;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Pattern;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.hadoop.fs.s3a.S3AFileSystem;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.DefaultCredentialsProvider;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.http.urlconnection.UrlConnectionHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;
import software.amazon.awssdk.services.dynamodb.model.AttributeDefinition;
import software.amazon.awssdk.services.dynamodb.model.AttributeValue;
import software.amazon.awssdk.services.dynamodb.model.BillingMode;
import software.amazon.awssdk.services.dynamodb.model.ConditionalCheckFailedException;
import software.amazon.awssdk.services.dynamodb.model.GetItemResponse;
import software.amazon.awssdk.services.dynamodb.model.KeySchemaElement;
import software.amazon.awssdk.services.dynamodb.model.KeyType;
import software.amazon.awssdk.services.dynamodb.model.QueryResponse;
import software.amazon.awssdk.services.dynamodb.model.ResourceInUseException;
import software.amazon.awssdk.services.dynamodb.model.ResourceNotFoundException;
import software.amazon.awssdk.services.dynamodb.model.ScalarAttributeType;

/**
 * A Delta log store that is safe with many writers on S3 (many Lambdas): the protocol of Delta's
 * {@code S3DynamoDBLogStore} / {@code BaseExternalLogStore} (whose artifact our registry does not serve), with the
 * same DynamoDB item layout, so a table may also be written by Delta's own store configured on the same DynamoDB
 * table. S3 has no put-if-absent that every S3-compatible store honours, so the mutual exclusion of "write commit
 * N" is a conditional put in DynamoDB, and the commit file is only ever created, never overwritten.
 *
 * <p>Writing commit N ({@code overwrite} false):
 * <ol>
 *   <li>N.json already exists: {@link FileAlreadyExistsException} (Delta then retries its transaction as for any
 *       concurrent commit). This check, not the DynamoDB entry, excludes a late writer once the entry of a
 *       completed commit has expired (S3 is strongly consistent).</li>
 *   <li>N-1.json must exist: an incomplete entry for it is completed first; without one, a missing N-1.json fails
 *       the write ({@link FileSystemException}). For N = 0, a complete entry without its file is refused (old
 *       entries of a deleted table).</li>
 *   <li>Prepare: the actions go to a temp file {@code _delta_log/.tmp/N.json.<uuid>}; a conditional put of
 *       {@code (tablePath, N.json, complete=false)} claims the version ({@link FileAlreadyExistsException} if
 *       taken).</li>
 *   <li>Commit: the temp file is copied to N.json without overwrite. Acknowledge: the entry is marked complete,
 *       with an expiry ({@value #ENTRY_TTL_SECONDS} s, DynamoDB TTL). A failure after the claim is not the
 *       caller's: the claimed commit is completed by the next writer or listing, as Delta's store does.</li>
 * </ol>
 * Before every listing the table's newest entry is completed if its writer died after claiming it.
 *
 * <p>Checkpoints and {@code _last_checkpoint} ({@code overwrite} true) are written directly. Configured through
 * the Hadoop configuration of the session writing (the sink sets these): {@value #TABLE}, {@value #ENDPOINT},
 * {@value #REGION}, {@value #ACCESS_KEY}, {@value #SECRET_KEY}. A session without {@value #TABLE} (a plain reader)
 * reads and lists without DynamoDB, and writes a commit only if its file does not exist.
 */
public final class DynamoDbLogStore extends HadoopFileSystemLogStore {
  private static final Logger LOG = LoggerFactory.getLogger(DynamoDbLogStore.class);
  public static final String TABLE = "spindrift.delta.logstore.table";
  public static final String ENDPOINT = "spindrift.delta.logstore.endpoint";
  public static final String REGION = "spindrift.delta.logstore.region";
  public static final String ACCESS_KEY = "spindrift.delta.logstore.access-key";
  public static final String SECRET_KEY = "spindrift.delta.logstore.secret-key";
  /** How long a completed entry is kept (Delta's default: a day). */
  static final long ENTRY_TTL_SECONDS = 24 * 3600;
  private static final String TABLE_PATH = "tablePath";
  private static final String FILE_NAME = "fileName";
  private static final String TEMP_PATH = "tempPath";
  private static final String COMPLETE = "complete";
  private static final String EXPIRE_TIME = "expireTime";
  private static final int FIX_ATTEMPTS = 4;
  private static final Pattern DELTA_FILE = Pattern.compile("\\d{20}\\.json");
  private static final Map<String, DynamoDbClient> CLIENTS = new ConcurrentHashMap<>();
  private static final Map<String, Boolean> TABLES = new ConcurrentHashMap<>();
  /** One writer or fixer per commit file within this JVM (the DynamoDB claim excludes other JVMs). */
  private static final Map<String, Object> PATH_LOCKS = new ConcurrentHashMap<>();

  public DynamoDbLogStore(Configuration initHadoopConf) {
    super(initHadoopConf);
  }

  /** One entry of the DynamoDB table: commit {@code fileName} of the table at {@code tablePath}. */
  record Entry(String tablePath, String fileName, String tempPath, boolean complete) {
    Path logDir() {
      return new Path(tablePath, "_delta_log");
    }

    Path commitFile() {
      return new Path(logDir(), fileName);
    }

    /** The temp file: relative to {@code _delta_log} as Delta writes it. */
    Path tempFile() {
      return new Path(logDir(), tempPath);
    }

    static Entry of(Map<String, AttributeValue> item) {
      return new Entry(item.get(TABLE_PATH).s(), item.get(FILE_NAME).s(), item.get(TEMP_PATH).s(),
          "true".equals(item.get(COMPLETE).s()));
    }
  }

  @Override
  public void write(Path path, Iterator<String> actions, Boolean overwrite, Configuration conf) throws IOException {
    FileSystem fs = path.getFileSystem(conf);
    String table = conf.get(TABLE, "");
    synchronized (PATH_LOCKS.computeIfAbsent(path.toString(), k -> new Object())) {
      if (overwrite) {
        writeFile(fs, path, actions, true);
        return;
      }
      if (fs.exists(path)) {
        throw new FileAlreadyExistsException(path.toString());
      }
      if (table.isBlank()) {
        writeFile(fs, path, actions, false);
        return;
      }
      DynamoDbClient dynamo = client(conf);
      ensureTable(dynamo, table);
      String tablePath = tablePath(path);
      requirePrevious(dynamo, table, tablePath, path, fs);
      Entry entry = new Entry(tablePath, path.getName(), ".tmp/" + path.getName() + "." + UUID.randomUUID(), false);
      writeFile(fs, entry.tempFile(), actions, true);
      try {
        dynamo.putItem(b -> b.tableName(table).item(item(entry, null))
            .conditionExpression("attribute_not_exists(" + FILE_NAME + ")"));
      } catch (ConditionalCheckFailedException taken) {
        deleteQuietly(fs, entry.tempFile());
        throw new FileAlreadyExistsException(path.toString());
      }
      try {
        copyWithoutOverwrite(fs, entry.tempFile(), entry.commitFile());
        markComplete(dynamo, table, entry);
      } catch (IOException | RuntimeException recoverable) {
        // the version is ours: the next writer or listing copies the temp file and marks the entry complete
        LOG.info("Commit {} claimed; completing it is left to the next writer: {}", path, recoverable.toString());
      }
    }
  }

  /** Step 1 of Delta's protocol: N-1.json exists, or its incomplete entry is completed now. */
  private static void requirePrevious(DynamoDbClient dynamo, String table, String tablePath, Path path,
      FileSystem fs) throws IOException {
    if (!DELTA_FILE.matcher(path.getName()).matches()) {
      return;
    }
    long version = Long.parseLong(path.getName().substring(0, 20));
    if (version == 0) {
      Optional<Entry> entry = entry(dynamo, table, tablePath, path.getName());
      if (entry.isPresent() && entry.get().complete() && !fs.exists(path)) {
        throw new FileSystemException("Old entries for table " + tablePath + " still exist in the DynamoDB log"
            + " store table " + table);
      }
      return;
    }
    Path previous = new Path(path.getParent(), String.format("%020d.json", version - 1));
    Optional<Entry> entry = entry(dynamo, table, tablePath, previous.getName());
    if (entry.isPresent() && !entry.get().complete()) {
      complete(dynamo, table, entry.get(), fs);
    } else if (!fs.exists(previous)) {
      throw new FileSystemException("Previous commit " + previous + " does not exist: Delta commit "
          + path.getName() + " cannot follow it");
    }
  }

  @Override
  public Iterator<FileStatus> listFrom(Path path, Configuration conf) throws IOException {
    String table = conf.get(TABLE, "");
    if (!table.isBlank()) {
      DynamoDbClient dynamo = client(conf);
      ensureTable(dynamo, table);
      Optional<Entry> latest = latestEntry(dynamo, table, tablePath(path));
      if (latest.isPresent() && !latest.get().complete()) {
        complete(dynamo, table, latest.get(), path.getFileSystem(conf));
      }
    }
    return listFromName(path, conf);
  }

  /**
   * The log's files from {@code path}'s name on, sorted by name. On S3A this is one listing that starts at that name
   * (S3's {@code start-after}, through Delta's own {@code S3LogStoreUtil}, which {@code delta.enableFastS3AListFrom}
   * turns on in Delta's S3 store), so it costs requests for the versions after the checkpoint, not for the whole
   * log. Listing the directory whole, as {@link HadoopFileSystemLogStore} does, costs a request per 1,000 files of
   * the log: at four commits a second a log holds 14,400 versions after an hour (a 21.9 s query after OPTIMIZE in
   * docs/PERFORMANCE.md, "Table health") and Delta keeps 30 days of it by default. Only the log directory's own
   * files are returned ({@code .tmp/} holds this store's temp files, {@code _commits/} others').
   */
  private Iterator<FileStatus> listFromName(Path path, Configuration conf) throws IOException {
    FileSystem fs = path.getFileSystem(conf);
    if (!(fs instanceof S3AFileSystem)) {
      return super.listFrom(path, conf);
    }
    Path resolved = fs.makeQualified(path);
    Path parent = resolved.getParent();
    String from = resolved.getName();
    List<FileStatus> files = Arrays.stream(S3LogStoreUtil.s3ListFromArray(fs, resolved, parent))
        .filter(status -> parent.equals(status.getPath().getParent())
            && status.getPath().getName().compareTo(from) >= 0)
        .sorted(Comparator.comparing(status -> status.getPath().getName()))
        .toList();
    // Delta tells a missing table by this exception; a listing that found files needs no other request to know
    if (files.isEmpty() && !fs.exists(parent)) {
      throw new FileNotFoundException("No such file or directory: " + parent);
    }
    return files.iterator();
  }

  @Override
  public Boolean isPartialWriteVisible(Path path, Configuration conf) {
    return false;
  }

  /**
   * Finishes the write of an incomplete entry whose writer stopped after claiming it: copies its temp file to the
   * commit file unless that exists (never overwriting), then marks the entry complete.
   */
  private static void complete(DynamoDbClient dynamo, String table, Entry entry, FileSystem fs) throws IOException {
    synchronized (PATH_LOCKS.computeIfAbsent(entry.commitFile().toString(), k -> new Object())) {
      boolean copied = false;
      for (int attempt = 1; ; attempt++) {
        try {
          if (!copied && !fs.exists(entry.commitFile())) {
            copyWithoutOverwrite(fs, entry.tempFile(), entry.commitFile());
          }
          copied = true;
          markComplete(dynamo, table, entry);
          return;
        } catch (FileAlreadyExistsException concurrentlyCopied) {
          copied = true;
        } catch (IOException | RuntimeException e) {
          if (attempt >= FIX_ATTEMPTS) {
            throw e;
          }
        }
      }
    }
  }

  private static void markComplete(DynamoDbClient dynamo, String table, Entry entry) {
    long expires = Instant.now().getEpochSecond() + ENTRY_TTL_SECONDS;
    Entry complete = new Entry(entry.tablePath(), entry.fileName(), entry.tempPath(), true);
    dynamo.putItem(b -> b.tableName(table).item(item(complete, expires)));
  }

  private static Map<String, AttributeValue> item(Entry entry, Long expireTime) {
    Map<String, AttributeValue> item = new HashMap<>();
    item.put(TABLE_PATH, s(entry.tablePath()));
    item.put(FILE_NAME, s(entry.fileName()));
    item.put(TEMP_PATH, s(entry.tempPath()));
    item.put(COMPLETE, s(Boolean.toString(entry.complete())));
    if (expireTime != null) {
      item.put(EXPIRE_TIME, AttributeValue.fromN(Long.toString(expireTime)));
    }
    return item;
  }

  private static Optional<Entry> entry(DynamoDbClient dynamo, String table, String tablePath, String fileName) {
    GetItemResponse item = dynamo.getItem(b -> b.tableName(table).consistentRead(true)
        .key(Map.of(TABLE_PATH, s(tablePath), FILE_NAME, s(fileName))));
    return item.hasItem() && !item.item().isEmpty() ? Optional.of(Entry.of(item.item())) : Optional.empty();
  }

  private static Optional<Entry> latestEntry(DynamoDbClient dynamo, String table, String tablePath) {
    QueryResponse latest = dynamo.query(b -> b.tableName(table).consistentRead(true)
        .keyConditionExpression(TABLE_PATH + " = :t").expressionAttributeValues(Map.of(":t", s(tablePath)))
        .scanIndexForward(false).limit(1));
    return latest.items().isEmpty() ? Optional.empty() : Optional.of(Entry.of(latest.items().get(0)));
  }

  /** Copies {@code from} to {@code to}, failing with {@link FileAlreadyExistsException} if {@code to} exists. */
  private static void copyWithoutOverwrite(FileSystem fs, Path from, Path to) throws IOException {
    byte[] bytes;
    try (InputStream in = fs.open(from)) {
      bytes = in.readAllBytes();
    }
    try (OutputStream out = fs.create(to, false)) {
      out.write(bytes);
    } catch (org.apache.hadoop.fs.FileAlreadyExistsException exists) {
      throw new FileAlreadyExistsException(to.toString());
    }
  }

  private static void writeFile(FileSystem fs, Path path, Iterator<String> lines, boolean overwrite)
      throws IOException {
    try (OutputStream out = fs.create(path, overwrite)) {
      while (lines.hasNext()) {
        out.write((lines.next() + "\n").getBytes(StandardCharsets.UTF_8));
      }
    } catch (org.apache.hadoop.fs.FileAlreadyExistsException exists) {
      throw new FileAlreadyExistsException(path.toString());
    }
  }

  private static void deleteQuietly(FileSystem fs, Path path) {
    try {
      fs.delete(path, false);
    } catch (IOException e) {
      LOG.debug("Could not delete temp file {}: {}", path, e.toString());
    }
  }

  /**
   * The table a commit file belongs to ({@code <table>/_delta_log/N.json} gives {@code <table>}), as Delta's store
   * keys its entries, with the scheme normalized (s3/s3n/s3a name one table).
   */
  static String tablePath(Path path) {
    return path.getParent().getParent().toString().replaceFirst("^s3n?:", "s3a:");
  }

  private static AttributeValue s(String value) {
    return AttributeValue.fromS(value);
  }

  private static DynamoDbClient client(Configuration conf) {
    String endpoint = conf.get(ENDPOINT, "");
    String region = conf.get(REGION, "us-east-1");
    String accessKey = conf.get(ACCESS_KEY, "");
    String secretKey = conf.get(SECRET_KEY, "");
    return CLIENTS.computeIfAbsent(endpoint + "|" + region + "|" + accessKey, k -> {
      var builder = DynamoDbClient.builder().region(Region.of(region))
          .httpClientBuilder(UrlConnectionHttpClient.builder())
          .credentialsProvider(accessKey.isBlank() ? DefaultCredentialsProvider.builder().build()
              : StaticCredentialsProvider.create(AwsBasicCredentials.create(accessKey, secretKey)));
      if (!endpoint.isBlank()) {
        builder.endpointOverride(URI.create(endpoint));
      }
      return builder.build();
    });
  }

  private static void ensureTable(DynamoDbClient dynamo, String table) {
    if (TABLES.containsKey(table)) {
      return;
    }
    try {
      dynamo.describeTable(b -> b.tableName(table));
    } catch (ResourceNotFoundException absent) {
      try {
        dynamo.createTable(b -> b.tableName(table).billingMode(BillingMode.PAY_PER_REQUEST)
            .attributeDefinitions(
                AttributeDefinition.builder().attributeName("tablePath").attributeType(ScalarAttributeType.S).build(),
                AttributeDefinition.builder().attributeName("fileName").attributeType(ScalarAttributeType.S).build())
            .keySchema(KeySchemaElement.builder().attributeName("tablePath").keyType(KeyType.HASH).build(),
                KeySchemaElement.builder().attributeName("fileName").keyType(KeyType.RANGE).build()));
        dynamo.waiter().waitUntilTableExists(b -> b.tableName(table));
        dynamo.updateTimeToLive(b -> b.tableName(table)
            .timeToLiveSpecification(t -> t.attributeName("expireTime").enabled(true)));
      } catch (ResourceInUseException raced) {
        dynamo.waiter().waitUntilTableExists(b -> b.tableName(table));
      }
    }
    TABLES.put(table, true);
  }
}
