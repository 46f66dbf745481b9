package io.spindrift.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.delta.storage.S3SingleDriverLogStore;
import io.spindrift.examples.LocalPipeline;
import io.spindrift.local.LocalStack;
import io.spindrift.sink.delta.DynamoDbLogStore;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;
import software.amazon.awssdk.services.dynamodb.model.AttributeValue;
import software.amazon.awssdk.services.s3.S3Client;

/**
 * The multi-writer Delta log store on the local stack, against the protocol of Delta's {@code S3DynamoDBLogStore}:
 * writers that share no JVM state (one store instance and one Hadoop file system each, as separate Lambdas have)
 * race for one commit version and exactly one wins; a commit file that exists is never overwritten, also once its
 * DynamoDB entry has expired; a commit whose previous version is missing is refused; a writer that died between
 * claiming a version and writing its file is completed by the next listing. Entries use Delta's layout
 * ({@code tablePath} = the table, {@code tempPath} relative to {@code _delta_log}).
 */
class DeltaLogStoreTest {
  private static Configuration conf(String table) {
    LocalStack stack = TestPipeline.stack();
    LocalPipeline.config(stack, Map.of()); // creates the bucket
    Configuration conf = new Configuration();
    conf.set("fs.s3a.fast.upload.buffer", "bytebuffer");
    conf.set("fs.s3a.impl", "org.apache.hadoop.fs.s3a.S3AFileSystem");
    conf.set("fs.s3a.endpoint", stack.s3Endpoint());
    conf.set("fs.s3a.endpoint.region", stack.region());
    conf.set("fs.s3a.path.style.access", "true");
    conf.set("fs.s3a.connection.ssl.enabled", "false");
    conf.set("fs.s3a.aws.credentials.provider", "org.apache.hadoop.fs.s3a.SimpleAWSCredentialsProvider");
    conf.set("fs.s3a.access.key", stack.accessKey());
    conf.set("fs.s3a.secret.key", stack.secretKey());
    conf.set("fs.s3a.impl.disable.cache", "true");
    conf.set(DynamoDbLogStore.TABLE, table);
    conf.set(DynamoDbLogStore.ENDPOINT, stack.dynamoDbEndpoint());
    conf.set(DynamoDbLogStore.REGION, stack.region());
    conf.set(DynamoDbLogStore.ACCESS_KEY, stack.accessKey());
    conf.set(DynamoDbLogStore.SECRET_KEY, stack.secretKey());
    return conf;
  }

  private static String read(Configuration conf, Path path) throws Exception {
    try (InputStream in = path.getFileSystem(conf).open(path)) {
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    }
  }

  @Test
  void writersRacingForOneVersionLetExactlyOneWin() throws Exception {
    String log = "s3a://spindrift/warehouse/it/" + TestPipeline.uniqueApp("logstore") + "/_delta_log";
    Configuration first = conf("spindrift_delta_log_it");
    new DynamoDbLogStore(first).write(new Path(log, "00000000000000000000.json"), List.of("{\"v\":0}").iterator(),
        false, first);
    Path commit = new Path(log, "00000000000000000001.json");
    int writers = 6;
    ExecutorService pool = Executors.newFixedThreadPool(writers);
    List<Future<String>> results = new ArrayList<>();
    for (int w = 0; w < writers; w++) {
      String line = "{\"commitInfo\":{\"writer\":" + w + "}}";
      Callable<String> write = () -> {
        Configuration conf = conf("spindrift_delta_log_it");
        try {
          new DynamoDbLogStore(conf).write(commit, List.of(line).iterator(), false, conf);
          return line;
        } catch (FileAlreadyExistsException lost) {
          return null;
        }
      };
      results.add(pool.submit(write));
    }
    List<String> winners = new ArrayList<>();
    for (Future<String> result : results) {
      if (result.get() != null) {
        winners.add(result.get());
      }
    }
    pool.shutdown();

    assertThat(winners).hasSize(1);
    assertThat(read(conf("spindrift_delta_log_it"), commit)).isEqualTo(winners.get(0) + "\n");
  }

  @Test
  void theDeltaSinkCommitsThroughTheStore() throws Exception {
    String app = TestPipeline.uniqueApp("logstore_sink");
    var runtime = TestPipeline.runtime(app, Map.of("SPINDRIFT_SINK_FORMAT", "delta"));
    new io.spindrift.local.mapping.InProcessInvoker<>(new io.spindrift.handler.KinesisHandler(runtime),
        com.amazonaws.services.lambda.runtime.events.KinesisEvent.class,
        com.amazonaws.services.lambda.runtime.events.StreamsEventResponse.class, 1)
        .invoke(KinesisEvents.event("clicks", "shardId-000000000000", 0, KinesisEvents.clicks(10, 3)));

    String log = "s3a://" + runtime.config().bucket() + "/warehouse/it/" + app;
    try (DynamoDbClient dynamo = io.spindrift.runtime.AwsClients.dynamoDb(runtime.config())) {
      var entries = dynamo.query(b -> b.tableName("spindrift_delta_log").keyConditionExpression("tablePath = :t")
          .expressionAttributeValues(Map.of(":t", AttributeValue.fromS(log)))).items();
      assertThat(entries).extracting(e -> e.get("fileName").s())
          .contains("00000000000000000000.json", "00000000000000000001.json");
      assertThat(entries).allSatisfy(e -> assertThat(e.get("complete").s()).isEqualTo("true"));
    }
  }

  @Test
  void aVersionClaimedByAWriterThatDiedIsCompletedByTheNextListing() throws Exception {
    String tablePath = "s3a://spindrift/warehouse/it/" + TestPipeline.uniqueApp("logstore");
    String log = tablePath + "/_delta_log";
    Configuration conf = conf("spindrift_delta_log_it");
    DynamoDbLogStore store = new DynamoDbLogStore(conf);
    store.write(new Path(log, "00000000000000000000.json"), List.of("{\"v\":0}").iterator(), false, conf);
    // the dead writer: temp file written, version claimed in DynamoDB, commit file never written
    Path temp = new Path(log, ".tmp/00000000000000000001.json.dead");
    try (var out = temp.getFileSystem(conf).create(temp, true)) {
      out.write("{\"v\":1}\n".getBytes(StandardCharsets.UTF_8));
    }
    LocalStack stack = TestPipeline.stack();
    try (DynamoDbClient dynamo = io.spindrift.runtime.AwsClients.dynamoDb(LocalPipeline.config(stack, Map.of()))) {
      dynamo.putItem(b -> b.tableName("spindrift_delta_log_it").item(Map.of(
          "tablePath", AttributeValue.fromS(tablePath), "fileName", AttributeValue.fromS("00000000000000000001.json"),
          "tempPath", AttributeValue.fromS(".tmp/00000000000000000001.json.dead"),
          "complete", AttributeValue.fromS("false"))));
    }
    Path lost = new Path(log, "00000000000000000001.json");
    FileSystem fs = lost.getFileSystem(conf);
    assertThat(fs.exists(lost)).isFalse();

    List<String> listed = new ArrayList<>();
    store.listFrom(new Path(log, "00000000000000000000"), conf).forEachRemaining(s -> listed.add(s.getPath().getName()));

    assertThat(listed).contains("00000000000000000000.json", "00000000000000000001.json");
    assertThat(read(conf, lost)).isEqualTo("{\"v\":1}\n");
    // and the next version is not blocked
    store.write(new Path(log, "00000000000000000002.json"), List.of("{\"v\":2}").iterator(), false, conf);
    assertThat(read(conf, new Path(log, "00000000000000000002.json"))).isEqualTo("{\"v\":2}\n");
  }

  private static DynamoDbClient dynamo() {
    return io.spindrift.runtime.AwsClients.dynamoDb(LocalPipeline.config(TestPipeline.stack(), Map.of()));
  }

  @Test
  void aCommitFileThatExistsIsNeverOverwrittenAlsoAfterItsEntryExpired() throws Exception {
    String tablePath = "s3a://spindrift/warehouse/it/" + TestPipeline.uniqueApp("logstore");
    Path commit = new Path(tablePath + "/_delta_log", "00000000000000000000.json");
    Configuration conf = conf("spindrift_delta_log_it");
    new DynamoDbLogStore(conf).write(commit, List.of("{\"v\":\"first\"}").iterator(), false, conf);
    // DynamoDB's TTL removes a completed entry after a day: the file on S3 is then what excludes a late writer
    try (DynamoDbClient dynamo = dynamo()) {
      for (String keyedBy : List.of(tablePath, tablePath + "/_delta_log")) { // Delta's layout, and the one before it
        dynamo.deleteItem(b -> b.tableName("spindrift_delta_log_it").key(Map.of(
            "tablePath", AttributeValue.fromS(keyedBy), "fileName", AttributeValue.fromS(commit.getName()))));
      }
    }

    Configuration late = conf("spindrift_delta_log_it");
    assertThatThrownBy(() -> new DynamoDbLogStore(late).write(commit, List.of("{\"v\":\"late\"}").iterator(), false,
        late)).isInstanceOf(FileAlreadyExistsException.class);
    assertThat(read(conf, commit)).isEqualTo("{\"v\":\"first\"}\n");
  }

  @Test
  void aCommitWhosePreviousVersionIsMissingIsRefusedAndClaimsNothing() throws Exception {
    String tablePath = "s3a://spindrift/warehouse/it/" + TestPipeline.uniqueApp("logstore");
    Path commit = new Path(tablePath + "/_delta_log", "00000000000000000003.json");
    Configuration conf = conf("spindrift_delta_log_it");

    assertThatThrownBy(() -> new DynamoDbLogStore(conf).write(commit, List.of("{\"v\":3}").iterator(), false, conf))
        .isInstanceOf(FileSystemException.class).hasMessageContaining("00000000000000000002.json");
    assertThat(commit.getFileSystem(conf).exists(commit)).isFalse();
    try (DynamoDbClient dynamo = dynamo()) {
      assertThat(dynamo.query(b -> b.tableName("spindrift_delta_log_it").keyConditionExpression("tablePath = :t")
          .expressionAttributeValues(Map.of(":t", AttributeValue.fromS(tablePath)))).items()).isEmpty();
    }
  }

  /**
   * A listing from version N costs one request for the versions after N however long the log is (S3's start-after),
   * where listing the directory whole (Delta's {@code S3SingleDriverLogStore} without its fast listing) costs a
   * request per page of the whole log; both list the same files from N on, and only the log directory's own.
   */
  @Test
  void aListingStartsAtItsVersionAndCostsOnePageHoweverLongTheLog() throws Exception {
    // a bucket of its own: the store's file system is then the cached instance this test reads the requests of
    String bucket = "spindrift-listing-" + UUID.randomUUID().toString().substring(0, 8);
    try (S3Client s3 = io.spindrift.runtime.AwsClients.s3(LocalPipeline.config(TestPipeline.stack(), Map.of()))) {
      s3.createBucket(b -> b.bucket(bucket));
    }
    Configuration conf = conf("spindrift_delta_log_it");
    conf.set("fs.s3a.impl.disable.cache", "false");
    int page = 50;
    conf.setInt("fs.s3a.paging.maximum", page);
    Path log = new Path("s3a://" + bucket + "/warehouse/t/_delta_log");
    FileSystem fs = log.getFileSystem(conf);
    int versions = 300;
    for (int v = 0; v < versions; v++) {
      touch(fs, new Path(log, String.format("%020d.json", v)));
    }
    touch(fs, new Path(log, "_last_checkpoint"));
    touch(fs, new Path(log, ".tmp/00000000000000000299.json.0b5e"));
    touch(fs, new Path(log, "_commits/00000000000000000299.0b5e.json"));
    Path from = new Path(log, String.format("%020d.json", versions - 10));

    long start = listRequests(fs);
    List<String> listed = names(new DynamoDbLogStore(conf).listFrom(from, conf));
    long listedRequests = listRequests(fs) - start;
    start = listRequests(fs);
    List<String> whole = names(new S3SingleDriverLogStore(conf).listFrom(from, conf));
    long wholeRequests = listRequests(fs) - start;

    List<String> expected = new ArrayList<>();
    for (int v = versions - 10; v < versions; v++) {
      expected.add(String.format("%020d.json", v));
    }
    expected.add("_last_checkpoint");
    assertThat(listed).containsExactlyElementsOf(expected);
    assertThat(whole).filteredOn(name -> !name.equals("_commits")).containsExactlyElementsOf(expected);
    assertThat(listedRequests).as("list requests: one page").isEqualTo(1);
    assertThat(wholeRequests).as("list requests of the whole directory").isGreaterThanOrEqualTo(versions / page);
  }

  @Test
  void aListingOfALogThatDoesNotExistSaysSo() throws Exception {
    Configuration conf = conf("spindrift_delta_log_it");
    Path log = new Path("s3a://spindrift/warehouse/it/" + TestPipeline.uniqueApp("logstore_none") + "/_delta_log");
    assertThatThrownBy(() -> new DynamoDbLogStore(conf).listFrom(new Path(log, "00000000000000000000.json"), conf))
        .isInstanceOf(java.io.FileNotFoundException.class).hasMessageContaining(log.getName());
  }

  private static void touch(FileSystem fs, Path path) throws Exception {
    try (var out = fs.create(path, true)) {
      out.write('{');
    }
  }

  private static List<String> names(java.util.Iterator<org.apache.hadoop.fs.FileStatus> statuses) {
    List<String> out = new ArrayList<>();
    statuses.forEachRemaining(status -> out.add(status.getPath().getName()));
    return out;
  }

  private static long listRequests(FileSystem fs) {
    var counters = ((org.apache.hadoop.fs.s3a.S3AFileSystem) fs).getIOStatistics().counters();
    return counters.get("object_list_request") + counters.get("object_continue_list_request");
  }
}
