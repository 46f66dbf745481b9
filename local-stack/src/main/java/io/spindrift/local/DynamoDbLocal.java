package io.spindrift.local;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/**
 * DynamoDB Local, in memory. Version 3.x ships its sqlite4java natives inside the jar and unpacks them itself,
 * so no {@code java.library.path} is needed. It binds every interface (it has no host option), hence a free
 * ephemeral port. {@code -sharedDb} gives every client one database: without it, DynamoDB Local keeps one per
 * access key and region, and a client with other credentials would not see the tables.
 */
final class DynamoDbLocal {
  static final String NAME = "dynamodb";
  static final ServiceClasspaths.Service ARTIFACT = new ServiceClasspaths.Service(
      "software.amazon.dynamodb", "DynamoDBLocal", ServiceVersions.of("dynamodb.local.version"), List.of());
  // 3.x moved the runner out of com.amazonaws.services.dynamodbv2.local.main.
  private static final String MAIN_CLASS = "software.amazon.dynamodb.services.local.main.ServerRunner";

  private DynamoDbLocal() {}

  static LocalService start(ChildJvm jvm, String classpath, Path workDir, Duration timeout) {
    int port = Loopback.freePort();
    String endpoint = "http://" + Loopback.HOST + ":" + port;
    long launchedAt = System.nanoTime();
    ChildProcess process = ChildProcess.start(NAME,
        jvm.command(classpath, "512m", List.of(), MAIN_CLASS,
            List.of("-inMemory", "-sharedDb", "-port", Integer.toString(port), "-disableTelemetry")),
        WorkFiles.create(workDir.resolve(NAME)));
    return LocalService.awaitReady(NAME, endpoint, process, launchedAt, timeout,
        () -> Loopback.postAwsJson(endpoint, "dynamodb", "DynamoDB_20120810.ListTables",
            "application/x-amz-json-1.0") == 200);
  }
}
