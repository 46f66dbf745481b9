package io.spindrift.local;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/**
 * s3proxy over its filesystem blob store ({@code filesystem-nio2}) in the stack's work directory, path-style:
 * objects live on disk and go with the stack, so what a run can store is not bounded by this child's heap (the
 * in-memory store, {@code transient-nio2}, holds every object there). It checks no signature
 * ({@code authorization=none}): SDK v2 clients, which always sign, are accepted with any key, and their aws-chunked
 * uploads are still decoded.
 */
final class S3Proxy {
  static final String NAME = "s3";
  // s3proxy 4.1.0 uses Jackson 3 (tools.jackson 3.2.x), which needs jackson-annotations 2.22; Maven's
  // nearest-first mediation would otherwise pick the 2.18.3 that arrives through jackson-databind 2.18.
  static final ServiceClasspaths.Service ARTIFACT = new ServiceClasspaths.Service(
      "org.gaul", "s3proxy", ServiceVersions.of("s3proxy.version"),
      List.of("com.fasterxml.jackson.core:jackson-annotations:2.22"));
  private static final String MAIN_CLASS = "org.gaul.s3proxy.Main";
  /** Request buffers only: objects are on disk, so the heap does not grow with what is stored. */
  static final String MAX_HEAP = "512m";
  // Without a configuration, logback logs every Jetty detail at DEBUG.
  private static final String LOGBACK_XML = """
      <configuration>
        <appender name="out" class="ch.qos.logback.core.ConsoleAppender">
          <encoder><pattern>%d{HH:mm:ss.SSS} %-5level %logger{36} - %msg%n</pattern></encoder>
        </appender>
        <root level="INFO"><appender-ref ref="out"/></root>
      </configuration>
      """;

  private S3Proxy() {}

  static LocalService start(ChildJvm jvm, String classpath, Path workDir, Duration timeout, String region,
      String accessKey, String secretKey) {
    return start(jvm, classpath, workDir, timeout, region, accessKey, secretKey, MAX_HEAP);
  }

  static LocalService start(ChildJvm jvm, String classpath, Path workDir, Duration timeout, String region,
      String accessKey, String secretKey, String maxHeap) {
    int port = Loopback.freePort();
    String endpoint = "http://" + Loopback.HOST + ":" + port;
    Path dir = WorkFiles.create(workDir.resolve(NAME));
    Path data = WorkFiles.create(dir.resolve("data"));
    Path properties = WorkFiles.write(dir.resolve("s3proxy.properties"), """
        s3proxy.endpoint=%s
        s3proxy.authorization=none
        jclouds.provider=filesystem-nio2
        jclouds.filesystem.basedir=%s
        jclouds.identity=%s
        jclouds.credential=%s
        jclouds.regions=%s
        """.formatted(endpoint, data, accessKey, secretKey, region));
    Path logback = WorkFiles.write(dir.resolve("logback.xml"), LOGBACK_XML);
    long launchedAt = System.nanoTime();
    ChildProcess process = ChildProcess.start(NAME,
        jvm.command(classpath, maxHeap, List.of("-Dlogback.configurationFile=" + logback), MAIN_CLASS,
            List.of("--properties", properties.toString())),
        dir);
    // Any HTTP answer will do: an unsigned GET is refused with 403 once the handler is up.
    return LocalService.awaitReady(NAME, endpoint, process, launchedAt, timeout,
        () -> Loopback.get(endpoint) > 0);
  }
}
