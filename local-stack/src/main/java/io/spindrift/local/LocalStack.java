package io.spindrift.local;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.Collectors;

/**
 * The local AWS and Kafka services Spindrift runs against on one machine: DynamoDB Local, s3proxy (S3), a KRaft
 * Kafka broker and kinesalite (Kinesis), each a supervised child process on 127.0.0.1 with a free ephemeral
 * port, started in parallel. s3proxy keeps objects on disk in the stack's work directory, which closing the stack
 * deletes.
 *
 * <p>Children run outside this JVM so that their dependencies never meet the caller's (Spark's) classpath, and
 * they halt on their own when this JVM dies, even after {@code kill -9}. Java emulators run on classpaths that
 * Maven resolves once and caches under {@code ~/.cache/spindrift/local-stack}; kinesalite is installed once
 * into {@code local-stack/.kinesis-emulator} (needs {@code mvn} and {@code node} on PATH).
 *
 * <p>Starting a stack sets, for this JVM, {@code aws.accessKeyId}, {@code aws.secretAccessKey} and
 * {@code aws.region} (unless already set) and {@code aws.cborEnabled=false} (kinesalite speaks JSON only), so
 * AWS SDK v2 clients built with an endpoint override and default credentials work against it. No service checks
 * signatures, and DynamoDB Local shares one database across keys and regions. S3 clients must use path-style
 * addressing. If a service does not come up, the error names its log file and quotes its end.
 */
public final class LocalStack implements AutoCloseable {
  private static final int PORT_RACE_ATTEMPTS = 3;
  private static final String REGION = "us-east-1";
  private static final String ACCESS_KEY = "local";
  private static final String SECRET_KEY = "local";
  private static final Duration STARTUP_TIMEOUT = Duration.ofMinutes(2);
  private static final System.Logger LOG = System.getLogger(LocalStack.class.getName());

  private static LocalStack shared;

  private final Path workDir;
  private final Map<String, LocalService> services;
  private final Thread shutdownHook;
  private final AtomicBoolean closed = new AtomicBoolean();

  private LocalStack(Path workDir, Map<String, LocalService> services) {
    this.workDir = workDir;
    this.services = services;
    this.shutdownHook = new Thread(this::stop, "spindrift-local-stack-shutdown");
    Runtime.getRuntime().addShutdownHook(shutdownHook);
  }

  /**
   * The stack shared by everything in this JVM: started on first call, stopped by a shutdown hook. A caller
   * that closes it makes the next call start a new one.
   */
  public static synchronized LocalStack shared() {
    if (shared == null || shared.closed.get()) {
      shared = start();
    }
    return shared;
  }

  /** Starts a fresh stack, independent of {@link #shared()} and of any other; close it when done. */
  public static LocalStack start() {
    configureAwsSdk();
    Path workDir = WorkFiles.createStackDir();
    long startedAt = System.nanoTime();
    ExecutorService threads = Executors.newFixedThreadPool(4, runnable -> {
      Thread thread = new Thread(runnable, "spindrift-local-stack-start");
      thread.setDaemon(true);
      return thread;
    });
    try {
      LocalStack stack = new LocalStack(workDir, startAll(workDir, threads));
      LOG.log(System.Logger.Level.INFO, "Local stack up in {0} ms: {1}",
          Duration.ofNanos(System.nanoTime() - startedAt).toMillis(), stack);
      return stack;
    } finally {
      threads.shutdown();
    }
  }

  /** DynamoDB Local, e.g. {@code http://127.0.0.1:41234}. */
  public String dynamoDbEndpoint() {
    return endpoint(DynamoDbLocal.NAME);
  }

  /** s3proxy, e.g. {@code http://127.0.0.1:41235}; clients must use path-style addressing. */
  public String s3Endpoint() {
    return endpoint(S3Proxy.NAME);
  }

  /** kinesalite, e.g. {@code http://127.0.0.1:41236}; clients must have CBOR off. */
  public String kinesisEndpoint() {
    return endpoint(Kinesalite.NAME);
  }

  /** The Kafka bootstrap servers, e.g. {@code 127.0.0.1:41237} (PLAINTEXT). */
  public String kafkaBootstrap() {
    return endpoint(KafkaBroker.NAME);
  }

  /** The region every service answers for: {@code us-east-1}. */
  public String region() {
    return REGION;
  }

  /**
   * The access key clients sign with: {@code local}. No service checks signatures, so any key works, except
   * that DynamoDB Local refuses access key ids with characters other than letters and digits.
   */
  public String accessKey() {
    return ACCESS_KEY;
  }

  /** The secret key that goes with {@link #accessKey()}: {@code local}. */
  public String secretKey() {
    return SECRET_KEY;
  }

  /** Launch-to-ready time of each service, keyed dynamodb, s3, kafka, kinesis. */
  public Map<String, Duration> startupTimes() {
    Map<String, Duration> times = new LinkedHashMap<>();
    services.forEach((name, service) -> times.put(name, service.startupTime()));
    return Collections.unmodifiableMap(times);
  }

  /** Stops every child process and deletes the stack's work directory; later calls do nothing. */
  @Override
  public void close() {
    if (closed.get()) {
      return;
    }
    try {
      Runtime.getRuntime().removeShutdownHook(shutdownHook);
    } catch (IllegalStateException shutdownInProgress) {
      // The hook is running or about to; stop() below is idempotent.
    }
    stop();
  }

  @Override
  public String toString() {
    return services.values().stream()
        .map(s -> s.name() + " " + s.endpoint() + " (" + s.startupTime().toMillis() + " ms)")
        .collect(Collectors.joining(", "));
  }

  /**
   * Freezes one emulator with SIGSTOP ({@code "s3"}, {@code "dynamodb"}, {@code "kafka"} or {@code "kinesis"}): its
   * port still accepts connections, nothing answers, as an unavailable AWS endpoint; {@link #resume} thaws it.
   * For fault tests.
   */
  public void suspend(String service) {
    signal(service, "STOP");
  }

  /** Thaws an emulator {@link #suspend}ed (SIGCONT). */
  public void resume(String service) {
    signal(service, "CONT");
  }

  private void signal(String service, String signal) {
    LocalService target = services.get(service);
    if (target == null) {
      throw new IllegalArgumentException("No local service '" + service + "'; the services are " + services.keySet());
    }
    try {
      Process kill = new ProcessBuilder("kill", "-" + signal, Long.toString(target.process().pid()))
          .redirectErrorStream(true).start();
      String output = new String(kill.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
      if (kill.waitFor() != 0) {
        throw new IllegalStateException("kill -" + signal + " of " + service + " failed: " + output);
      }
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  /** Process ids of the running emulators, for tests that check nothing outlives the stack. */
  List<Long> childPids() {
    return services.values().stream().map(s -> s.process().pid()).toList();
  }

  private void stop() {
    if (!closed.compareAndSet(false, true)) {
      return;
    }
    services.values().forEach(LocalService::close);
    try {
      WorkFiles.deleteRecursively(workDir);
    } catch (IOException e) {
      LOG.log(System.Logger.Level.WARNING, "Cannot delete the local stack's work directory " + workDir, e);
    }
  }

  private String endpoint(String service) {
    if (closed.get()) {
      throw new IllegalStateException("The local stack is closed; start a new one (" + workDir + ")");
    }
    return services.get(service).endpoint();
  }

  private static Map<String, LocalService> startAll(Path workDir, ExecutorService threads) {
    ChildJvm jvm = new ChildJvm(workDir);
    CompletableFuture<LocalService> kinesis =
        CompletableFuture.supplyAsync(() -> retryingPortRaces(() -> Kinesalite.start(workDir, STARTUP_TIMEOUT)), threads);
    CompletableFuture<Map<ServiceClasspaths.Service, String>> classpaths = CompletableFuture.supplyAsync(
        () -> ServiceClasspaths.resolve(List.of(DynamoDbLocal.ARTIFACT, S3Proxy.ARTIFACT, KafkaBroker.ARTIFACT)),
        threads);
    CompletableFuture<LocalService> dynamoDb = classpaths.thenApplyAsync(cp -> retryingPortRaces(() ->
        DynamoDbLocal.start(jvm, cp.get(DynamoDbLocal.ARTIFACT), workDir, STARTUP_TIMEOUT)), threads);
    CompletableFuture<LocalService> s3 = classpaths.thenApplyAsync(cp -> retryingPortRaces(() ->
        S3Proxy.start(jvm, cp.get(S3Proxy.ARTIFACT), workDir, STARTUP_TIMEOUT, REGION, ACCESS_KEY, SECRET_KEY)),
        threads);
    CompletableFuture<LocalService> kafka = classpaths.thenApplyAsync(cp -> retryingPortRaces(() ->
        KafkaBroker.start(jvm, cp.get(KafkaBroker.ARTIFACT), workDir, STARTUP_TIMEOUT)), threads);
    return awaitAll(workDir, List.of(dynamoDb, s3, kafka, kinesis));
  }

  /**
   * Starts a service, again on a new port when the one it was given was taken before it bound it: a free port is
   * found by binding and closing a socket, so another process (a service starting beside it, a test's server) can
   * take it in between. The service's log then says "Address already in use"; any other failure is thrown at once.
   */
  static LocalService retryingPortRaces(java.util.function.Supplier<LocalService> start) {
    for (int attempt = 1; ; attempt++) {
      try {
        return start.get();
      } catch (RuntimeException e) {
        if (attempt >= PORT_RACE_ATTEMPTS || !portTaken(e)) {
          throw e;
        }
      }
    }
  }

  private static boolean portTaken(Throwable e) {
    for (Throwable cause = e; cause != null; cause = cause.getCause()) {
      String message = String.valueOf(cause.getMessage());
      if (message.contains("Address already in use") || message.contains("EADDRINUSE")
          || message.contains("Failed to bind")) {
        return true;
      }
    }
    return false;
  }

  /** All services by name, or, if any failed, none: those that started are stopped and the failures thrown. */
  private static Map<String, LocalService> awaitAll(Path workDir, List<CompletableFuture<LocalService>> starts) {
    Map<String, LocalService> started = new LinkedHashMap<>();
    List<Throwable> failures = new ArrayList<>();
    for (CompletableFuture<LocalService> start : starts) {
      try {
        LocalService service = start.join();
        started.put(service.name(), service);
      } catch (CompletionException e) {
        if (!failures.contains(e.getCause())) {
          failures.add(e.getCause());
        }
      }
    }
    if (failures.isEmpty()) {
      return started;
    }
    started.values().forEach(LocalService::close);
    IllegalStateException failure = new IllegalStateException("The local stack did not start (logs kept in "
        + workDir + "): " + failures.get(0).getMessage(), failures.get(0));
    failures.stream().skip(1).forEach(failure::addSuppressed);
    throw failure;
  }

  private static void configureAwsSdk() {
    setIfAbsent("aws.accessKeyId", ACCESS_KEY);
    setIfAbsent("aws.secretAccessKey", SECRET_KEY);
    setIfAbsent("aws.region", REGION);
    System.setProperty("aws.cborEnabled", "false");
  }

  private static void setIfAbsent(String property, String value) {
    if (System.getProperty(property) == null) {
      System.setProperty(property, value);
    }
  }
}
