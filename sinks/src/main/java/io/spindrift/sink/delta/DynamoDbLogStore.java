package io.spindrift.sink.delta;

import io.delta.storage.HadoopFileSystemLogStore;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
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
import software.amazon.awssdk.services.dynamodb.model.KeySchemaElement;
import software.amazon.awssdk.services.dynamodb.model.KeyType;
import software.amazon.awssdk.services.dynamodb.model.QueryResponse;
import software.amazon.awssdk.services.dynamodb.model.ResourceInUseException;
import software.amazon.awssdk.services.dynamodb.model.ResourceNotFoundException;
import software.amazon.awssdk.services.dynamodb.model.ScalarAttributeType;

/**
 * A Delta log store that is safe with many writers on S3 (many Lambdas), the protocol of Delta's
 * {@code S3DynamoDBLogStore} (whose artifact our registry does not serve): S3 has no put-if-absent that every
 * S3-compatible store honours, so the mutual exclusion of "write commit N" is a conditional put in DynamoDB.
 *
 * <ol>
 *   <li>Before writing commit N (and before every listing), the latest entry of the table is completed if a
 *       writer crashed half-way: its temp file is copied to its commit file, the entry marked complete.</li>
 *   <li>Writing N: the actions go to a temp file under {@code _delta_log/.tmp/}; a conditional put of
 *       {@code (table, N.json)} claims the version ({@link FileAlreadyExistsException} if taken: Delta then
 *       retries its transaction as for any concurrent commit); the commit file is written; the entry marked
 *       complete (with a TTL: once the file exists in S3 the entry is no longer needed).</li>
 * </ol>
 *
 * <p>Configured through the Hadoop configuration of the session writing (the sink sets these):
 * {@value #TABLE}, {@value #ENDPOINT}, {@value #REGION}, {@value #ACCESS_KEY}, {@value #SECRET_KEY}. A session
 * without {@value #TABLE} (a plain reader) reads and lists without DynamoDB.
 */
public final class DynamoDbLogStore extends HadoopFileSystemLogStore {
  public static final String TABLE = "spindrift.delta.logstore.table";
  public static final String ENDPOINT = "spindrift.delta.logstore.endpoint";
  public static final String REGION = "spindrift.delta.logstore.region";
  public static final String ACCESS_KEY = "spindrift.delta.logstore.access-key";
  public static final String SECRET_KEY = "spindrift.delta.logstore.secret-key";
  private static final long ENTRY_TTL_SECONDS = 24 * 3600;
  private static final Map<String, DynamoDbClient> CLIENTS = new ConcurrentHashMap<>();
  private static final Map<String, Boolean> TABLES = new ConcurrentHashMap<>();

  public DynamoDbLogStore(Configuration initHadoopConf) {
    super(initHadoopConf);
  }

  @Override
  public void write(Path path, Iterator<String> actions, Boolean overwrite, Configuration conf) throws IOException {
    FileSystem fs = path.getFileSystem(conf);
    String table = conf.get(TABLE, "");
    if (overwrite || table.isBlank()) {
      // checkpoints and _last_checkpoint are overwritten idempotently; a session without the store writes as S3 does
      if (!overwrite && fs.exists(path)) {
        throw new FileAlreadyExistsException(path.toString());
      }
      writeFile(fs, path, actions);
      return;
    }
    DynamoDbClient dynamo = client(conf);
    ensureTable(dynamo, table);
    String tablePath = tablePath(path);
    completeLatest(dynamo, table, tablePath, fs);
    Path temp = new Path(path.getParent(), ".tmp/" + path.getName() + "." + UUID.randomUUID());
    List<String> lines = new ArrayList<>();
    actions.forEachRemaining(lines::add);
    writeFile(fs, temp, lines.iterator());
    try {
      dynamo.putItem(b -> b.tableName(table)
          .item(Map.of("tablePath", s(tablePath), "fileName", s(path.getName()), "tempPath", s(temp.toString()),
              "complete", s("false")))
          .conditionExpression("attribute_not_exists(fileName)"));
    } catch (ConditionalCheckFailedException taken) {
      fs.delete(temp, false);
      throw new FileAlreadyExistsException(path.toString());
    }
    writeFile(fs, path, lines.iterator());
    markComplete(dynamo, table, tablePath, path.getName());
    fs.delete(temp, false);
  }

  @Override
  public Iterator<FileStatus> listFrom(Path path, Configuration conf) throws IOException {
    String table = conf.get(TABLE, "");
    if (!table.isBlank()) {
      DynamoDbClient dynamo = client(conf);
      ensureTable(dynamo, table);
      completeLatest(dynamo, table, tablePath(path), path.getFileSystem(conf));
    }
    return super.listFrom(path, conf);
  }

  @Override
  public Boolean isPartialWriteVisible(Path path, Configuration conf) {
    return false;
  }

  /** If the table's newest entry is incomplete (its writer died after claiming it), finishes its write. */
  private static void completeLatest(DynamoDbClient dynamo, String table, String tablePath, FileSystem fs)
      throws IOException {
    QueryResponse latest = dynamo.query(b -> b.tableName(table).consistentRead(true)
        .keyConditionExpression("tablePath = :t").expressionAttributeValues(Map.of(":t", s(tablePath)))
        .scanIndexForward(false).limit(1));
    if (latest.items().isEmpty()) {
      return;
    }
    Map<String, AttributeValue> entry = latest.items().get(0);
    if ("true".equals(entry.get("complete").s())) {
      return;
    }
    String fileName = entry.get("fileName").s();
    Path commit = new Path(tablePath + "/" + fileName);
    Path temp = new Path(entry.get("tempPath").s());
    if (!fs.exists(commit)) {
      List<String> lines = new ArrayList<>();
      try (InputStream in = fs.open(temp)) {
        for (String line : new String(in.readAllBytes(), StandardCharsets.UTF_8).split("\n")) {
          if (!line.isEmpty()) {
            lines.add(line);
          }
        }
      }
      writeFile(fs, commit, lines.iterator());
    }
    markComplete(dynamo, table, tablePath, fileName);
  }

  private static void markComplete(DynamoDbClient dynamo, String table, String tablePath, String fileName) {
    long expires = Instant.now().getEpochSecond() + ENTRY_TTL_SECONDS;
    dynamo.updateItem(b -> b.tableName(table)
        .key(Map.of("tablePath", s(tablePath), "fileName", s(fileName)))
        .updateExpression("SET complete = :c, expireTime = :e")
        .expressionAttributeValues(Map.of(":c", s("true"), ":e", AttributeValue.fromN(Long.toString(expires)))));
  }

  private static void writeFile(FileSystem fs, Path path, Iterator<String> lines) throws IOException {
    try (OutputStream out = fs.create(path, true)) {
      while (lines.hasNext()) {
        out.write((lines.next() + "\n").getBytes(StandardCharsets.UTF_8));
      }
    }
  }

  /** The {@code _delta_log} directory a commit file belongs to, scheme normalized (s3/s3a name one table). */
  private static String tablePath(Path path) {
    return path.getParent().toString().replaceFirst("^s3n?:", "s3a:");
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
