package io.spindrift.local;

import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import java.util.UUID;

/**
 * A single-node KRaft Kafka broker (broker and controller in one JVM, every replication factor 1). Its storage
 * is formatted first by {@code kafka.tools.StorageTool} in a short child JVM of its own, since that tool ends
 * with {@code System.exit}.
 */
final class KafkaBroker {
  static final String NAME = "kafka";
  // Kafka logs through SLF4J 1.7 and ships no binding; reload4j is the one its distribution uses.
  static final ServiceClasspaths.Service ARTIFACT = new ServiceClasspaths.Service(
      "org.apache.kafka", "kafka_2.12", ServiceVersions.of("kafka.broker.version"),
      List.of("org.slf4j:slf4j-reload4j:1.7.36"));
  private static final String STARTED = "Kafka Server started";
  private static final String LOG4J_PROPERTIES = """
      log4j.rootLogger=INFO, stdout
      log4j.appender.stdout=org.apache.log4j.ConsoleAppender
      log4j.appender.stdout.layout=org.apache.log4j.PatternLayout
      log4j.appender.stdout.layout.ConversionPattern=[%d] %p %m (%c)%n
      log4j.logger.kafka.server.KafkaConfig=WARN
      log4j.logger.org.apache.kafka.common.config.AbstractConfig=WARN
      """;

  private KafkaBroker() {}

  static LocalService start(ChildJvm jvm, String classpath, Path workDir, Duration timeout) {
    int port = Loopback.freePort();
    int controllerPort = Loopback.freePort();
    Path dir = WorkFiles.create(workDir.resolve(NAME));
    Path serverProperties = WorkFiles.write(dir.resolve("server.properties"),
        serverProperties(port, controllerPort, dir.resolve("data")));
    List<String> logging = List.of(
        "-Dlog4j.configuration=" + WorkFiles.write(dir.resolve("log4j.properties"), LOG4J_PROPERTIES).toUri());
    long launchedAt = System.nanoTime();
    ChildProcess.start(NAME + "-format",
            jvm.command(classpath, "256m", logging, "kafka.tools.StorageTool",
                List.of("format", "-t", clusterId(), "-c", serverProperties.toString())),
            dir)
        .awaitSuccessfulExit(timeout);
    ChildProcess broker = ChildProcess.start(NAME,
        jvm.command(classpath, "1g", logging, "kafka.Kafka", List.of(serverProperties.toString())), dir);
    // The port opens before the broker has registered with its controller; the log line comes after both.
    return LocalService.awaitReady(NAME, Loopback.HOST + ":" + port, broker, launchedAt, timeout,
        () -> broker.logContains(STARTED) && Loopback.acceptsConnections(port));
  }

  private static String serverProperties(int port, int controllerPort, Path dataDir) {
    return """
        process.roles=broker,controller
        node.id=1
        controller.quorum.voters=1@%1$s:%3$d
        listeners=PLAINTEXT://%1$s:%2$d,CONTROLLER://%1$s:%3$d
        advertised.listeners=PLAINTEXT://%1$s:%2$d
        controller.listener.names=CONTROLLER
        inter.broker.listener.name=PLAINTEXT
        listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
        log.dirs=%4$s
        num.partitions=2
        auto.create.topics.enable=true
        default.replication.factor=1
        offsets.topic.replication.factor=1
        transaction.state.log.replication.factor=1
        transaction.state.log.min.isr=1
        min.insync.replicas=1
        group.initial.rebalance.delay.ms=0
        """.formatted(Loopback.HOST, port, controllerPort, dataDir);
  }

  /** A Kafka cluster id: 16 random bytes, URL-safe Base64 without padding, not starting with '-'. */
  private static String clusterId() {
    while (true) {
      UUID uuid = UUID.randomUUID();
      ByteBuffer bytes = ByteBuffer.allocate(16).putLong(uuid.getMostSignificantBits())
          .putLong(uuid.getLeastSignificantBits());
      String id = Base64.getUrlEncoder().withoutPadding().encodeToString(bytes.array());
      if (!id.startsWith("-")) {
        return id;
      }
    }
  }
}
