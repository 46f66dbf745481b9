package io.spindrift.infra.config;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.spindrift.infra.config.PipelineConfig.AlarmSettings;
import io.spindrift.infra.config.PipelineConfig.CatalogType;
import io.spindrift.infra.config.PipelineConfig.EventSourceSettings;
import io.spindrift.infra.config.PipelineConfig.FunctionSettings;
import io.spindrift.infra.config.PipelineConfig.KinesisSource;
import io.spindrift.infra.config.PipelineConfig.MaintenanceSettings;
import io.spindrift.infra.config.PipelineConfig.MskAuth;
import io.spindrift.infra.config.PipelineConfig.MskAuthType;
import io.spindrift.infra.config.PipelineConfig.MskSource;
import io.spindrift.infra.config.PipelineConfig.NetworkSettings;
import io.spindrift.infra.config.PipelineConfig.RuntimeSettings;
import io.spindrift.infra.config.PipelineConfig.Sink;
import io.spindrift.infra.config.PipelineConfig.SinkFormat;
import io.spindrift.infra.config.PipelineConfig.StartingPosition;
import io.spindrift.infra.config.PipelineConfig.StorageSettings;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * Reads a {@link PipelineConfig} from JSON (a file, a string, or the object given as CDK context)
 * and validates every field against what Lambda, Kinesis, MSK and the Spindrift runtime accept.
 * Unknown fields are refused so a typo cannot silently fall back to a default. The first bad value
 * throws {@link InvalidPipelineConfigException} naming the field.
 */
public final class PipelineConfigReader {
  private static final ObjectMapper JSON = new ObjectMapper();

  private static final Pattern APP = Pattern.compile("[a-z][a-z0-9-]{0,39}");
  private static final Pattern KINESIS_STREAM_ARN =
      Pattern.compile("arn:aws[a-z-]*:kinesis:[a-z0-9-]+:\\d{12}:stream/[a-zA-Z0-9_.-]{1,128}");
  private static final Pattern CONSUMER_NAME = Pattern.compile("[a-zA-Z0-9_.-]{1,128}");
  private static final Pattern MSK_CLUSTER_ARN =
      Pattern.compile("arn:aws[a-z-]*:kafka:[a-z0-9-]+:\\d{12}:cluster/[a-zA-Z0-9-]{1,64}/[a-zA-Z0-9-]+");
  private static final Pattern MSK_SECRET_ARN =
      Pattern.compile("arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\\d{12}:secret:AmazonMSK_[a-zA-Z0-9/_+=.@-]+");
  private static final Pattern KMS_KEY_ARN =
      Pattern.compile("arn:aws[a-z-]*:kms:[a-z0-9-]+:\\d{12}:key/[a-zA-Z0-9-]+");
  private static final Pattern SNS_TOPIC_ARN =
      Pattern.compile("arn:aws[a-z-]*:sns:[a-z0-9-]+:\\d{12}:[a-zA-Z0-9_-]{1,256}");
  private static final Pattern KAFKA_TOPIC = Pattern.compile("[a-zA-Z0-9._-]{1,249}");
  private static final Pattern CONSUMER_GROUP = Pattern.compile("[a-zA-Z0-9\\-/*:_+=.@]{1,200}");
  private static final Pattern SINK_TABLE =
      Pattern.compile("[A-Za-z_][A-Za-z0-9_]*\\.[A-Za-z_][A-Za-z0-9_]*");
  private static final Pattern VPC_ID = Pattern.compile("vpc-[0-9a-f]{8}([0-9a-f]{9})?");
  private static final Pattern SUBNET_ID = Pattern.compile("subnet-[0-9a-f]{8}([0-9a-f]{9})?");
  private static final Pattern SECURITY_GROUP_ID = Pattern.compile("sg-[0-9a-f]{8}([0-9a-f]{9})?");
  private static final Pattern ROUTE_TABLE_ID = Pattern.compile("rtb-[0-9a-f]{8}([0-9a-f]{9})?");
  private static final Pattern JOB =
      Pattern.compile("s3://[a-z0-9.-]{3,63}/.+\\.sql|classpath:.+\\.sql|[A-Za-z_$][A-Za-z0-9_$]*(\\.[A-Za-z_$][A-Za-z0-9_$]*)+");

  private PipelineConfigReader() {}

  /** Reads and validates the JSON file at {@code path}. */
  public static PipelineConfig fromFile(Path path) {
    try {
      return fromJson(Files.readString(path));
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot read pipeline config file " + path.toAbsolutePath(), e);
    }
  }

  /** Reads and validates a JSON document. */
  public static PipelineConfig fromJson(String json) {
    try {
      return read(JSON.readTree(json));
    } catch (JsonProcessingException e) {
      throw new InvalidPipelineConfigException("(document)", "not valid JSON: " + e.getOriginalMessage());
    }
  }

  /** Reads and validates a value given as CDK context (a map, as jsii hands JSON objects over). */
  public static PipelineConfig fromContextValue(Object contextValue) {
    return read(JSON.valueToTree(contextValue));
  }

  /** Reads and validates a parsed JSON tree. */
  public static PipelineConfig read(JsonNode root) {
    Node config = Node.root(root);
    config.allowOnly("app", "job", "kinesis", "msk", "sink", "handler", "childExecutor",
        "eventSource", "runtime", "storage", "alarms", "maintenance", "network");
    Optional<KinesisSource> kinesis = config.optionalObject("kinesis").map(PipelineConfigReader::kinesis);
    Optional<MskSource> msk = config.optionalObject("msk").map(PipelineConfigReader::msk);
    if (kinesis.isEmpty() && msk.isEmpty()) {
      throw new InvalidPipelineConfigException("kinesis", "configure at least one source: 'kinesis' or 'msk'");
    }
    Optional<NetworkSettings> network = config.optionalObject("network").map(PipelineConfigReader::network);
    if (network.isPresent() && msk.isEmpty()) {
      throw new InvalidPipelineConfigException("network", "places the MSK handler in the cluster's VPC, and there is"
          + " no 'msk' source; remove 'network' (the other functions call only public AWS APIs)");
    }
    return new PipelineConfig(
        config.requiredString("app", APP, "lower-case letters, digits and '-', starting with a letter, at most 40 characters"),
        config.requiredString("job", JOB, "a job class name, s3://bucket/key.sql or classpath:path.sql"),
        kinesis,
        msk,
        sink(config.requiredObject("sink")),
        function(config.object("handler")),
        function(config.object("childExecutor")),
        eventSource(config.object("eventSource")),
        runtime(config.object("runtime")),
        storage(config.object("storage")),
        alarms(config.object("alarms")),
        maintenance(config.object("maintenance")),
        network);
  }

  private static KinesisSource kinesis(Node node) {
    node.allowOnly("shardCount", "streamArn", "enhancedFanOut", "consumerName");
    Optional<Integer> shards = node.optionalInt("shardCount", 1, 500);
    Optional<String> arn = node.optionalString("streamArn", KINESIS_STREAM_ARN, "arn:aws:kinesis:<region>:<account>:stream/<name>");
    if (shards.isPresent() == arn.isPresent()) {
      throw new InvalidPipelineConfigException(node.path("shardCount"),
          "give exactly one of 'shardCount' (the stack creates the stream) or 'streamArn' (an existing stream)");
    }
    boolean enhancedFanOut = node.booleanValue("enhancedFanOut", false);
    Optional<String> consumer = node.optionalString("consumerName", CONSUMER_NAME,
        "1-128 characters of [a-zA-Z0-9_.-]");
    if (consumer.isPresent() && !enhancedFanOut) {
      throw new InvalidPipelineConfigException(node.path("consumerName"),
          "names the enhanced fan-out consumer: set 'enhancedFanOut': true, or remove it");
    }
    return new KinesisSource(shards, arn, enhancedFanOut, consumer);
  }

  private static MskSource msk(Node node) {
    node.allowOnly("clusterArn", "topic", "consumerGroup", "auth", "minimumPollers", "maximumPollers");
    Node auth = node.requiredObject("auth");
    auth.allowOnly("type", "secretArn", "secretKmsKeyArn");
    MskAuthType type = auth.requiredEnum("type", MskAuthType.class);
    Optional<String> secret = auth.optionalString("secretArn", MSK_SECRET_ARN,
        "arn:aws:secretsmanager:<region>:<account>:secret:AmazonMSK_<name> (MSK requires the AmazonMSK_ prefix)");
    Optional<String> key = auth.optionalString("secretKmsKeyArn", KMS_KEY_ARN, "arn:aws:kms:<region>:<account>:key/<id>");
    if (type == MskAuthType.SASL_SCRAM && (secret.isEmpty() || key.isEmpty())) {
      throw new InvalidPipelineConfigException(auth.path(secret.isEmpty() ? "secretArn" : "secretKmsKeyArn"),
          "SASL_SCRAM needs the SCRAM secret ARN and the customer-managed KMS key that encrypts it");
    }
    if (type == MskAuthType.IAM && (secret.isPresent() || key.isPresent())) {
      throw new InvalidPipelineConfigException(auth.path("secretArn"), "IAM authentication takes no secret; remove it or use SASL_SCRAM");
    }
    int minPollers = node.intValue("minimumPollers", 1, 1, 200);
    int maxPollers = node.intValue("maximumPollers", 10, 1, 2000);
    if (maxPollers < minPollers) {
      throw new InvalidPipelineConfigException(node.path("maximumPollers"), "must be >= minimumPollers (" + minPollers + ")");
    }
    return new MskSource(
        node.requiredString("clusterArn", MSK_CLUSTER_ARN, "arn:aws:kafka:<region>:<account>:cluster/<name>/<uuid>"),
        node.requiredString("topic", KAFKA_TOPIC, "1-249 characters of [a-zA-Z0-9._-]"),
        node.requiredString("consumerGroup", CONSUMER_GROUP, "1-200 characters of [a-zA-Z0-9-/*:_+=.@]"),
        new MskAuth(type, secret, key),
        minPollers,
        maxPollers);
  }

  private static Sink sink(Node node) {
    node.allowOnly("format", "table", "catalog", "catalogUri");
    SinkFormat format = node.requiredEnum("format", SinkFormat.class);
    CatalogType catalog = node.enumValue("catalog", CatalogType.class, CatalogType.DYNAMODB);
    Optional<String> uri = node.optionalString("catalogUri", Pattern.compile("https?://.+"), "an http(s) URL");
    if (format == SinkFormat.ICEBERG && catalog == CatalogType.REST && uri.isEmpty()) {
      throw new InvalidPipelineConfigException(node.path("catalogUri"), "the REST catalog needs its URL");
    }
    return new Sink(format, node.requiredString("table", SINK_TABLE, "<namespace>.<table>"), catalog, uri);
  }

  private static FunctionSettings function(Node node) {
    node.allowOnly("memoryMb", "timeoutSeconds", "ephemeralStorageMb", "reservedConcurrency");
    return new FunctionSettings(
        node.intValue("memoryMb", 4096, 128, 10240),
        node.intValue("timeoutSeconds", 300, 1, 900),
        node.intValue("ephemeralStorageMb", 2048, 512, 10240),
        node.optionalInt("reservedConcurrency", 1, 10000));
  }

  private static EventSourceSettings eventSource(Node node) {
    node.allowOnly("batchSize", "batchingWindowSeconds", "parallelizationFactor", "retryAttempts",
        "maxRecordAgeSeconds", "startingPosition");
    int factor = node.intValue("parallelizationFactor", 1, 1, 10);
    if (factor != 1) {
      throw new InvalidPipelineConfigException(node.path("parallelizationFactor"),
          "must be 1, got " + factor + ". A ParallelizationFactor above 1 makes one Kinesis shard deliver"
              + " concurrent batches whose sequence numbers interleave (order holds only per partition key),"
              + " and Spindrift keeps one committed position per shard, so records would be skipped"
              + " (DESIGN §5, invariant I2). Scale with more shards instead.");
    }
    return new EventSourceSettings(
        node.intValue("batchSize", 1000, 1, 10000),
        node.intValue("batchingWindowSeconds", 1, 0, 300),
        factor,
        node.intValue("retryAttempts", 10, 0, 10000),
        node.intValue("maxRecordAgeSeconds", 86400, 60, 604800),
        node.enumValue("startingPosition", StartingPosition.class, StartingPosition.TRIM_HORIZON));
  }

  private static RuntimeSettings runtime(Node node) {
    node.allowOnly("shufflePartitions", "maxCommitAttempts", "fanOut", "fanOutMaxRecords", "archive", "readAhead");
    return new RuntimeSettings(
        node.intValue("shufflePartitions", 8, 1, 10000),
        node.intValue("maxCommitAttempts", 5, 1, 100),
        node.enumValue("fanOut", PipelineConfig.FanOutMode.class, PipelineConfig.FanOutMode.OFF),
        node.intValue("fanOutMaxRecords", 50000, 2, 100_000_000),
        node.booleanValue("archive", false),
        node.booleanValue("readAhead", false));
  }

  private static StorageSettings storage(Node node) {
    if (node.json().has("stageExpiryDays")) {
      throw new InvalidPipelineConfigException(node.path("stageExpiryDays"), "removed: a blind expiry of <app>/stage/"
          + " would expire objects that unpublished commits reference; the scheduled maintenance deletes the stage"
          + " objects of published commits instead (docs/MAINTENANCE.md). Remove the field.");
    }
    node.allowOnly("shuffleExpiryDays", "archiveInfrequentAccessDays", "archiveExpiryDays");
    StorageSettings settings = new StorageSettings(
        node.intValue("shuffleExpiryDays", 1, 1, 3650), node.intValue("archiveInfrequentAccessDays", 30, 30, 3650),
        node.intValue("archiveExpiryDays", 0, 0, 36500));
    if (settings.archiveExpiryDays() != 0 && settings.archiveExpiryDays() <= settings.archiveInfrequentAccessDays()) {
      throw new InvalidPipelineConfigException("storage.archiveExpiryDays", "got " + settings.archiveExpiryDays()
          + ", expected 0 (kept) or more than archiveInfrequentAccessDays (" + settings.archiveInfrequentAccessDays()
          + ")");
    }
    return settings;
  }

  private static MaintenanceSettings maintenance(Node node) {
    node.allowOnly("enabled", "rateMinutes", "memoryMb", "timeoutSeconds", "ephemeralStorageMb");
    return new MaintenanceSettings(
        node.booleanValue("enabled", true),
        node.intValue("rateMinutes", 60, 5, 7 * 24 * 60),
        new FunctionSettings(node.intValue("memoryMb", 4096, 128, 10240), node.intValue("timeoutSeconds", 900, 60, 900),
            node.intValue("ephemeralStorageMb", 2048, 512, 10240), Optional.of(1)));
  }

  private static NetworkSettings network(Node node) {
    node.allowOnly("vpcId", "subnetIds", "securityGroupIds", "clusterSecurityGroupId", "gatewayEndpoints",
        "routeTableIds", "interfaceEndpoints");
    String vpc = node.requiredString("vpcId", VPC_ID, "a VPC id, vpc-<8 or 17 hex digits>");
    // Lambda takes at most 16 subnets and 5 security groups per function.
    List<String> subnets = node.requiredStringList("subnetIds", SUBNET_ID, "subnet-<8 or 17 hex digits>", 16);
    List<String> groups = node.requiredStringList("securityGroupIds", SECURITY_GROUP_ID, "sg-<8 or 17 hex digits>", 5);
    Optional<String> clusterGroup = node.optionalString("clusterSecurityGroupId", SECURITY_GROUP_ID,
        "the MSK cluster's security group, sg-<8 or 17 hex digits>");
    boolean gateway = node.booleanValue("gatewayEndpoints", true);
    List<String> routeTables = node.optionalStringList("routeTableIds", ROUTE_TABLE_ID, "rtb-<8 or 17 hex digits>", 200);
    if (gateway && routeTables.isEmpty()) {
      throw new InvalidPipelineConfigException(node.path("routeTableIds"), "is required while 'gatewayEndpoints' is"
          + " true (the default): give the route tables of subnetIds, which the S3 and DynamoDB gateway endpoints are"
          + " added to; or set 'gatewayEndpoints': false if they already route S3 and DynamoDB (an endpoint or a NAT)");
    }
    if (!gateway && !routeTables.isEmpty()) {
      throw new InvalidPipelineConfigException(node.path("routeTableIds"),
          "is used only by the gateway endpoints: set 'gatewayEndpoints': true, or remove it");
    }
    return new NetworkSettings(vpc, subnets, groups, clusterGroup, gateway, routeTables,
        node.booleanValue("interfaceEndpoints", false));
  }

  private static AlarmSettings alarms(Node node) {
    node.allowOnly("iteratorAgeSeconds", "offsetLagRecords", "commitConflictsPer5Min", "topicArn");
    return new AlarmSettings(
        node.intValue("iteratorAgeSeconds", 60, 1, 604800),
        node.intValue("offsetLagRecords", 100_000, 1, Integer.MAX_VALUE),
        node.intValue("commitConflictsPer5Min", 50, 1, 1_000_000),
        node.optionalString("topicArn", SNS_TOPIC_ARN, "arn:aws:sns:<region>:<account>:<topic>"));
  }

  /** A JSON object plus its path from the root, so every error names the field. */
  private record Node(JsonNode json, String prefix) {
    static Node root(JsonNode json) {
      if (json == null || !json.isObject()) {
        throw new InvalidPipelineConfigException("(document)", "must be a JSON object");
      }
      return new Node(json, "");
    }

    String path(String field) {
      return prefix + field;
    }

    void allowOnly(String... fields) {
      java.util.Set<String> allowed = java.util.Set.of(fields);
      json.fieldNames().forEachRemaining(name -> {
        if (!allowed.contains(name)) {
          throw new InvalidPipelineConfigException(path(name), "unknown field; allowed here: " + String.join(", ", fields));
        }
      });
    }

    private JsonNode present(String field) {
      JsonNode value = json.get(field);
      return value == null || value.isNull() ? null : value;
    }

    Optional<Node> optionalObject(String field) {
      JsonNode value = present(field);
      if (value == null) {
        return Optional.empty();
      }
      if (!value.isObject()) {
        throw new InvalidPipelineConfigException(path(field), "must be a JSON object");
      }
      return Optional.of(new Node(value, path(field) + "."));
    }

    Node requiredObject(String field) {
      return optionalObject(field).orElseThrow(() -> new InvalidPipelineConfigException(path(field), "is required"));
    }

    /** An optional section; absent means all defaults. */
    Node object(String field) {
      return optionalObject(field).orElseGet(() -> new Node(JSON.createObjectNode(), path(field) + "."));
    }

    Optional<String> optionalString(String field, Pattern pattern, String expected) {
      JsonNode value = present(field);
      if (value == null) {
        return Optional.empty();
      }
      if (!value.isTextual() || !pattern.matcher(value.asText()).matches()) {
        throw new InvalidPipelineConfigException(path(field), "got " + value + ", expected " + expected);
      }
      return Optional.of(value.asText());
    }

    String requiredString(String field, Pattern pattern, String expected) {
      return optionalString(field, pattern, expected)
          .orElseThrow(() -> new InvalidPipelineConfigException(path(field), "is required (" + expected + ")"));
    }

    Optional<Integer> optionalInt(String field, int min, int max) {
      JsonNode value = present(field);
      if (value == null) {
        return Optional.empty();
      }
      if (!value.isIntegralNumber() || !value.canConvertToInt() || value.asInt() < min || value.asInt() > max) {
        throw new InvalidPipelineConfigException(path(field), "got " + value + ", expected an integer from " + min + " to " + max);
      }
      return Optional.of(value.asInt());
    }

    /** A list of 1 to {@code max} distinct strings matching {@code pattern}; empty when the field is absent. */
    List<String> optionalStringList(String field, Pattern pattern, String expected, int max) {
      JsonNode value = present(field);
      if (value == null) {
        return List.of();
      }
      if (!value.isArray() || value.isEmpty() || value.size() > max) {
        throw new InvalidPipelineConfigException(path(field),
            "got " + value + ", expected a list of 1 to " + max + " values like " + expected);
      }
      List<String> values = new ArrayList<>();
      for (JsonNode element : value) {
        if (!element.isTextual() || !pattern.matcher(element.asText()).matches()) {
          throw new InvalidPipelineConfigException(path(field) + "[" + values.size() + "]",
              "got " + element + ", expected " + expected);
        }
        values.add(element.asText());
      }
      if (new HashSet<>(values).size() != values.size()) {
        throw new InvalidPipelineConfigException(path(field), "lists a value twice: " + value);
      }
      return List.copyOf(values);
    }

    List<String> requiredStringList(String field, Pattern pattern, String expected, int max) {
      List<String> values = optionalStringList(field, pattern, expected, max);
      if (values.isEmpty()) {
        throw new InvalidPipelineConfigException(path(field), "is required (a list of " + expected + ")");
      }
      return values;
    }

    boolean booleanValue(String field, boolean defaultValue) {
      JsonNode value = present(field);
      if (value == null) {
        return defaultValue;
      }
      if (!value.isBoolean()) {
        throw new InvalidPipelineConfigException(path(field), "got " + value + ", expected true or false");
      }
      return value.asBoolean();
    }

    int intValue(String field, int defaultValue, int min, int max) {
      return optionalInt(field, min, max).orElse(defaultValue);
    }

    <E extends Enum<E>> E enumValue(String field, Class<E> type, E defaultValue) {
      JsonNode value = present(field);
      if (value == null) {
        return defaultValue;
      }
      String name = value.isTextual() ? value.asText().toUpperCase(java.util.Locale.ROOT) : "";
      for (E constant : type.getEnumConstants()) {
        if (constant.name().equals(name)) {
          return constant;
        }
      }
      throw new InvalidPipelineConfigException(path(field),
          "got " + value + ", expected one of " + java.util.Arrays.toString(type.getEnumConstants()));
    }

    <E extends Enum<E>> E requiredEnum(String field, Class<E> type) {
      if (present(field) == null) {
        throw new InvalidPipelineConfigException(path(field),
            "is required, one of " + java.util.Arrays.toString(type.getEnumConstants()));
      }
      return enumValue(field, type, null);
    }
  }
}
