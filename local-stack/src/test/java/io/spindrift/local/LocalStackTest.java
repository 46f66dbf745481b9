package io.spindrift.local;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.core.SdkBytes;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.http.urlconnection.UrlConnectionHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.dynamodb.DynamoDbClient;
import software.amazon.awssdk.services.dynamodb.model.AttributeValue;
import software.amazon.awssdk.services.dynamodb.model.BillingMode;
import software.amazon.awssdk.services.dynamodb.model.KeyType;
import software.amazon.awssdk.services.dynamodb.model.ScalarAttributeType;
import software.amazon.awssdk.services.kinesis.KinesisClient;
import software.amazon.awssdk.services.kinesis.model.PutRecordsRequestEntry;
import software.amazon.awssdk.services.kinesis.model.Record;
import software.amazon.awssdk.services.kinesis.model.Shard;
import software.amazon.awssdk.services.kinesis.model.ShardIteratorType;
import software.amazon.awssdk.services.kinesis.model.StreamStatus;
import software.amazon.awssdk.services.s3.S3Client;

class LocalStackTest {
  private static final Duration DEADLINE = Duration.ofSeconds(30);
  private static LocalStack stack;

  @BeforeAll
  static void startSharedStack() {
    stack = LocalStack.shared();
  }

  @Test
  void dynamoDbReturnsTheItemPutIntoANewTableToClientsWithAnyCredentials() {
    // No credentials or region given: the SDK's default chains read the system properties the stack set.
    try (DynamoDbClient dynamoDb = DynamoDbClient.builder()
        .endpointOverride(URI.create(stack.dynamoDbEndpoint()))
        .httpClient(UrlConnectionHttpClient.create())
        .build()) {
      dynamoDb.createTable(t -> t.tableName("lanes")
          .billingMode(BillingMode.PAY_PER_REQUEST)
          .keySchema(k -> k.attributeName("lane").keyType(KeyType.HASH))
          .attributeDefinitions(a -> a.attributeName("lane").attributeType(ScalarAttributeType.S)));
      dynamoDb.putItem(p -> p.tableName("lanes").item(Map.of(
          "lane", AttributeValue.fromS("shard-0"), "seq", AttributeValue.fromN("42"))));

    }
    try (DynamoDbClient otherKey = DynamoDbClient.builder()
        .endpointOverride(URI.create(stack.dynamoDbEndpoint()))
        .region(Region.EU_WEST_1)
        .credentialsProvider(otherCredentials())
        .httpClient(UrlConnectionHttpClient.create())
        .build()) {
      Map<String, AttributeValue> item = otherKey.getItem(g -> g.tableName("lanes").consistentRead(true)
          .key(Map.of("lane", AttributeValue.fromS("shard-0")))).item();

      assertThat(item).containsEntry("seq", AttributeValue.fromN("42"));
    }
  }

  @Test
  void s3ReturnsTheObjectPutIntoANewBucketWithPathStyleAddressingToClientsSigningWithAnyKey() {
    byte[] object = new byte[300_000];
    Arrays.fill(object, (byte) 'x');
    try (S3Client s3 = s3Client(credentials())) {
      s3.createBucket(b -> b.bucket("lakehouse"));
      s3.putObject(p -> p.bucket("lakehouse").key("stage/batch-1.json"), RequestBody.fromBytes(object));

      assertThat(s3.getObjectAsBytes(g -> g.bucket("lakehouse").key("stage/batch-1.json")).asByteArray())
          .isEqualTo(object);
    }
    try (S3Client otherKey = s3Client(otherCredentials())) {
      assertThat(otherKey.getObjectAsBytes(g -> g.bucket("lakehouse").key("stage/batch-1.json")).asByteArray())
          .isEqualTo(object);
    }
  }

  private static KinesisClient kinesis() {
    return KinesisClient.builder()
        .endpointOverride(URI.create(stack.kinesisEndpoint()))
        .region(Region.of(stack.region()))
        .credentialsProvider(credentials())
        .httpClient(UrlConnectionHttpClient.create())
        .build();
  }

  @Test
  void kinesisReturnsFromEachOfTwoShardsTheRecordsPutIntoIt() {
    try (KinesisClient kinesis = kinesis()) {
      kinesis.createStream(c -> c.streamName("events").shardCount(2));
      awaitActive(kinesis, "events");
      List<Shard> shards = kinesis.listShards(l -> l.streamName("events")).shards();
      assertThat(shards).hasSize(2);

      List<PutRecordsRequestEntry> entries = new ArrayList<>();
      for (Shard shard : shards) {
        for (int i = 0; i < 3; i++) {
          entries.add(PutRecordsRequestEntry.builder()
              .partitionKey("key-" + i)
              .explicitHashKey(shard.hashKeyRange().startingHashKey())
              .data(SdkBytes.fromUtf8String(shard.shardId() + "/" + i))
              .build());
        }
      }
      assertThat(kinesis.putRecords(p -> p.streamName("events").records(entries)).failedRecordCount()).isZero();

      for (Shard shard : shards) {
        String iterator = kinesis.getShardIterator(g -> g.streamName("events").shardId(shard.shardId())
            .shardIteratorType(ShardIteratorType.TRIM_HORIZON)).shardIterator();
        List<Record> records = kinesis.getRecords(g -> g.shardIterator(iterator)).records();
        assertThat(records).extracting(r -> r.data().asUtf8String())
            .containsExactly(shard.shardId() + "/0", shard.shardId() + "/1", shard.shardId() + "/2");
      }
    }
  }

  /**
   * A client that closes its connection in the middle of a request (an SDK call that timed out, a poller stopped
   * while it reads) costs that request only: kinesalite, and the streams it holds in memory, go on serving.
   */
  @Test
  void kinesisKeepsServingItsStreamsAfterAClientDropsARequestHalfway() throws Exception {
    try (KinesisClient kinesis = kinesis()) {
      kinesis.createStream(c -> c.streamName("survivor").shardCount(1));
      awaitActive(kinesis, "survivor");
      URI endpoint = URI.create(stack.kinesisEndpoint());
      for (int drop = 0; drop < 3; drop++) {
        try (java.net.Socket socket = new java.net.Socket(endpoint.getHost(), endpoint.getPort())) {
          java.io.OutputStream out = socket.getOutputStream();
          out.write(("POST / HTTP/1.1\r\nHost: " + endpoint.getAuthority() + "\r\n"
              + "Content-Type: application/x-amz-json-1.1\r\nX-Amz-Target: Kinesis_20131202.ListStreams\r\n"
              + "Content-Length: 1000\r\n\r\n{\"Limit\":").getBytes(StandardCharsets.US_ASCII));
          out.flush();
          Thread.sleep(100);
          socket.setSoLinger(true, 0); // a reset, as a client that gave up on the request
        }
      }
      Thread.sleep(300);
      assertThat(kinesis.describeStream(d -> d.streamName("survivor")).streamDescription().streamStatus())
          .isEqualTo(StreamStatus.ACTIVE);
    }
  }

  @Test
  void kafkaDeliversToAConsumerTheRecordsProducedIntoBothPartitionsOfANewTopic() throws Exception {
    try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, stack.kafkaBootstrap()))) {
      admin.createTopics(List.of(new NewTopic("orders", 2, (short) 1))).all().get();
      assertThat(admin.describeCluster().nodes().get()).hasSize(1);
    }
    try (KafkaProducer<String, String> producer = new KafkaProducer<>(kafkaProperties(
        ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName(),
        ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName()))) {
      for (int i = 0; i < 6; i++) {
        producer.send(new ProducerRecord<>("orders", i % 2, "key-" + i, "order-" + i)).get();
      }
    }

    List<ConsumerRecord<String, String>> consumed = new ArrayList<>();
    try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(kafkaProperties(
        ConsumerConfig.GROUP_ID_CONFIG, "local-stack-test",
        ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest",
        ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName(),
        ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName()))) {
      consumer.subscribe(List.of("orders"));
      long deadline = System.nanoTime() + DEADLINE.toNanos();
      while (consumed.size() < 6 && System.nanoTime() < deadline) {
        consumer.poll(Duration.ofMillis(200)).forEach(consumed::add);
      }
    }

    assertThat(consumed).extracting(ConsumerRecord::value).containsExactlyInAnyOrder(
        "order-0", "order-1", "order-2", "order-3", "order-4", "order-5");
    assertThat(consumed).extracting(ConsumerRecord::partition).containsOnly(0, 1);
  }

  @Test
  void startupTimeIsRecordedForEveryService() {
    assertThat(stack.startupTimes()).containsOnlyKeys("dynamodb", "s3", "kafka", "kinesis");
    assertThat(stack.startupTimes().values()).allSatisfy(time -> assertThat(time).isPositive());
  }

  @Test
  void endpointsAreOnLoopbackAndSdkSystemPropertiesAreSet() {
    assertThat(List.of(stack.dynamoDbEndpoint(), stack.s3Endpoint(), stack.kinesisEndpoint()))
        .allSatisfy(endpoint -> assertThat(endpoint).matches("http://127\\.0\\.0\\.1:\\d+"));
    assertThat(stack.kafkaBootstrap()).matches("127\\.0\\.0\\.1:\\d+");
    assertThat(System.getProperty("aws.cborEnabled")).isEqualTo("false");
    assertThat(System.getProperty("aws.region")).isNotBlank();
  }

  @Test
  void closingAStackLeavesNoChildProcessRunning() {
    LocalStack own = LocalStack.start();
    List<ProcessHandle> children = own.childPids().stream()
        .map(pid -> ProcessHandle.of(pid).orElseThrow()).toList();
    assertThat(children).hasSize(4).allMatch(ProcessHandle::isAlive);

    own.close();

    assertThat(children).noneMatch(ProcessHandle::isAlive);
  }

  @Test
  void childProcessesStopWhenTheJvmThatStartedThemIsKilled(@TempDir Path tmp) throws Exception {
    // The killed JVM's shutdown hook cannot delete its work directory; put it where JUnit cleans up.
    Process holder = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-D" + RepoRoot.PROPERTY + "=" + System.getProperty(RepoRoot.PROPERTY),
        "-Djava.io.tmpdir=" + tmp,
        "-cp", System.getProperty("java.class.path"), StackHoldingMain.class.getName())
        .redirectError(ProcessBuilder.Redirect.DISCARD)
        .start();
    List<ProcessHandle> children;
    try (BufferedReader out = new BufferedReader(
        new InputStreamReader(holder.getInputStream(), StandardCharsets.UTF_8))) {
      String line = out.readLine();
      assertThat(line).as("first line of the stack-holding JVM").startsWith(StackHoldingMain.PIDS_PREFIX);
      children = Arrays.stream(line.substring(StackHoldingMain.PIDS_PREFIX.length()).split(" "))
          .map(pid -> ProcessHandle.of(Long.parseLong(pid)).orElseThrow()).toList();
    } finally {
      holder.destroyForcibly();
    }
    assertThat(children).hasSize(4);

    long deadline = System.nanoTime() + DEADLINE.toNanos();
    while (children.stream().anyMatch(ProcessHandle::isAlive) && System.nanoTime() < deadline) {
      Thread.sleep(100);
    }

    assertThat(children).noneMatch(ProcessHandle::isAlive);
  }

  private static StaticCredentialsProvider credentials() {
    return StaticCredentialsProvider.create(AwsBasicCredentials.create(stack.accessKey(), stack.secretKey()));
  }

  /** DynamoDB Local 3.x rejects access key ids other than letters and digits, so none of those. */
  private static StaticCredentialsProvider otherCredentials() {
    return StaticCredentialsProvider.create(AwsBasicCredentials.create("someoneElse2", "another-secret"));
  }

  private static S3Client s3Client(StaticCredentialsProvider credentials) {
    return S3Client.builder()
        .endpointOverride(URI.create(stack.s3Endpoint()))
        .forcePathStyle(true)
        .region(Region.of(stack.region()))
        .credentialsProvider(credentials)
        .httpClient(UrlConnectionHttpClient.create())
        .build();
  }

  private static Properties kafkaProperties(String... keyValues) {
    Properties properties = new Properties();
    properties.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, stack.kafkaBootstrap());
    for (int i = 0; i < keyValues.length; i += 2) {
      properties.put(keyValues[i], keyValues[i + 1]);
    }
    return properties;
  }

  private static void awaitActive(KinesisClient kinesis, String stream) {
    long deadline = System.nanoTime() + DEADLINE.toNanos();
    while (kinesis.describeStreamSummary(d -> d.streamName(stream)).streamDescriptionSummary().streamStatus()
        != StreamStatus.ACTIVE) {
      assertThat(System.nanoTime()).as("stream %s active within %s", stream, DEADLINE).isLessThan(deadline);
      Thread.onSpinWait();
    }
  }
}
