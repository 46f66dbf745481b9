package io.spindrift.infra.image;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.spindrift.local.LocalStack;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.OptionalLong;
import java.util.stream.Collectors;

/**
 * Points a packaged handler, started in its own JVM, at this JVM's shared local stack
 * ({@link LocalStack#shared()}): the {@code SPINDRIFT_*} settings it reads, the bucket it expects
 * to exist (the runtime never creates it) and the commit log's head as DynamoDB Local holds it.
 * Plain HTTP only, so the test class path carries no AWS SDK: s3proxy accepts an unsigned
 * {@code PUT /<bucket>}, and DynamoDB Local checks no signatures.
 */
final class LocalStackEnvironment {
  /** {@code SPINDRIFT_BUCKET}'s default. */
  static final String DEFAULT_BUCKET = "spindrift";
  /** {@code SPINDRIFT_COMMIT_TABLE}'s default. */
  static final String DEFAULT_COMMIT_TABLE = "spindrift_commits";

  private static final HttpClient HTTP = HttpClient.newHttpClient();
  private static final ObjectMapper JSON = new ObjectMapper();

  private LocalStackEnvironment() {}

  /**
   * The endpoint, key and region settings of the shared stack, started on first use. The keys are
   * also given as {@code AWS_ACCESS_KEY_ID}/{@code AWS_SECRET_ACCESS_KEY}: the Iceberg catalog's
   * DynamoDB client takes the default credential chain, not {@code SPINDRIFT_ACCESS_KEY}.
   */
  static Map<String, String> settings() {
    LocalStack stack = LocalStack.shared();
    Map<String, String> env = new LinkedHashMap<>();
    env.put("SPINDRIFT_S3_ENDPOINT", stack.s3Endpoint());
    env.put("SPINDRIFT_DYNAMODB_ENDPOINT", stack.dynamoDbEndpoint());
    env.put("SPINDRIFT_ACCESS_KEY", stack.accessKey());
    env.put("SPINDRIFT_SECRET_KEY", stack.secretKey());
    env.put("SPINDRIFT_REGION", stack.region());
    env.put("AWS_ACCESS_KEY_ID", stack.accessKey());
    env.put("AWS_SECRET_ACCESS_KEY", stack.secretKey());
    return env;
  }

  /** {@link #settings()} as a KEY=VALUE file, for {@code prepare-image.sh --stack-env}. */
  static Path writeSettings(Path file) {
    try {
      Files.createDirectories(file.toAbsolutePath().getParent());
      String lines = settings().entrySet().stream()
          .map(e -> e.getKey() + "=" + e.getValue())
          .collect(Collectors.joining("\n", "# the shared local stack of the test JVM\n", "\n"));
      return Files.writeString(file, lines);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Creates {@code bucket} on the stack's s3proxy; an existing bucket is fine. */
  static void createBucket(String bucket) throws IOException, InterruptedException {
    HttpResponse<String> response = HTTP.send(HttpRequest.newBuilder(URI.create(LocalStack.shared().s3Endpoint() + "/" + bucket))
        .PUT(HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.ofString());
    if (response.statusCode() != 200 && response.statusCode() != 409) {
      throw new IllegalStateException("s3proxy refused PUT /" + bucket + ": " + response.statusCode() + " " + response.body());
    }
  }

  /**
   * The seq of {@code app}'s head commit ({@code pk=APP#<app>, sk=HEAD}) in {@code commitTable},
   * read consistently; empty if the app never committed.
   */
  static OptionalLong committedHead(String commitTable, String app) throws IOException, InterruptedException {
    Map<String, Object> key = Map.of("pk", Map.of("S", "APP#" + app), "sk", Map.of("S", "HEAD"));
    String body = JSON.writeValueAsString(Map.of("TableName", commitTable, "Key", key, "ConsistentRead", true));
    LocalStack stack = LocalStack.shared();
    HttpResponse<String> response = HTTP.send(HttpRequest.newBuilder(URI.create(stack.dynamoDbEndpoint()))
        .header("Content-Type", "application/x-amz-json-1.0")
        .header("X-Amz-Target", "DynamoDB_20120810.GetItem")
        .header("Authorization", "AWS4-HMAC-SHA256 Credential=" + stack.accessKey() + "/20240101/" + stack.region()
            + "/dynamodb/aws4_request, SignedHeaders=content-type;host;x-amz-target, Signature=0")
        .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
    if (response.statusCode() != 200) {
      throw new IllegalStateException("DynamoDB Local GetItem on " + commitTable + " failed: "
          + response.statusCode() + " " + response.body());
    }
    JsonNode seq = JSON.readTree(response.body()).path("Item").path("seq").path("N");
    return seq.isMissingNode() ? OptionalLong.empty() : OptionalLong.of(Long.parseLong(seq.asText()));
  }
}
