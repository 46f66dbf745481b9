package io.spindrift.infra.image;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * A minimal AWS Lambda Runtime API (version 2018-06-01) on 127.0.0.1, enough for the real runtime
 * interface client: {@code GET /runtime/invocation/next} hands out the queued events with the
 * headers Lambda sends, {@code POST /runtime/invocation/{id}/response|error} and {@code POST
 * /runtime/init/error} are captured as {@link Result}s. When the queue is empty {@code next}
 * long-polls, as Lambda does, until the server is closed. Used by the image script's CDS training
 * run and by the runtime-fidelity test.
 */
public final class LocalRuntimeApi implements AutoCloseable {
  private static final String PREFIX = "/2018-06-01/runtime/";

  /** What the runtime posted back. */
  public enum Kind { RESPONSE, ERROR, INIT_ERROR }

  /**
   * One posted result.
   *
   * @param requestId the invocation's request id (empty for an init error)
   * @param kind response, invocation error or init error
   * @param body the posted body, UTF-8
   * @param errorType the {@code Lambda-Runtime-Function-Error-Type} header, if sent
   * @param nanoTime {@link System#nanoTime()} when it arrived
   */
  public record Result(String requestId, Kind kind, String body, Optional<String> errorType, long nanoTime) {
    /**
     * Whether the runtime found and initialised the handler: false for an init error and for the
     * runtime client's own "Class not found" / "No public method" invocation errors.
     */
    public boolean handlerResolved() {
      return kind != Kind.INIT_ERROR && !body.contains("\"Class not found: ") && !body.contains("No public method named");
    }
  }

  private final HttpServer server;
  private final ExecutorService executor = Executors.newCachedThreadPool(r -> {
    Thread t = new Thread(r, "local-runtime-api");
    t.setDaemon(true);
    return t;
  });
  private final BlockingQueue<String> events = new LinkedBlockingQueue<>();
  private final BlockingQueue<Result> results = new LinkedBlockingQueue<>();
  private final CountDownLatch closed = new CountDownLatch(1);
  private final String functionArn;
  private volatile long firstNextNanos;

  private LocalRuntimeApi(HttpServer server, String functionArn) {
    this.server = server;
    this.functionArn = functionArn;
  }

  /** Starts on 127.0.0.1 at {@code port} (0 = any free port) serving {@code events} in order. */
  public static LocalRuntimeApi start(int port, List<String> events, String functionArn) throws IOException {
    HttpServer server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 16);
    LocalRuntimeApi api = new LocalRuntimeApi(server, functionArn);
    api.events.addAll(events);
    server.createContext(PREFIX, api::handle);
    server.setExecutor(api.executor);
    server.start();
    return api;
  }

  /** The value for {@code AWS_LAMBDA_RUNTIME_API}: {@code 127.0.0.1:<port>}. */
  public String address() {
    return "127.0.0.1:" + server.getAddress().getPort();
  }

  /** {@link System#nanoTime()} of the runtime's first {@code next} call, or 0 if none yet. */
  public long firstNextNanos() {
    return firstNextNanos;
  }

  /** Waits for the next posted result; empty if none arrives within {@code timeout}. */
  public Optional<Result> awaitResult(Duration timeout) throws InterruptedException {
    return Optional.ofNullable(results.poll(timeout.toMillis(), TimeUnit.MILLISECONDS));
  }

  @Override
  public void close() {
    closed.countDown();
    server.stop(0);
    executor.shutdownNow();
  }

  private void handle(HttpExchange exchange) throws IOException {
    try (exchange) {
      String path = exchange.getRequestURI().getPath().substring(PREFIX.length());
      String method = exchange.getRequestMethod();
      if (method.equals("GET") && path.equals("invocation/next")) {
        next(exchange);
      } else if (method.equals("POST") && path.equals("init/error")) {
        record(exchange, "", Kind.INIT_ERROR);
      } else if (method.equals("POST") && path.startsWith("invocation/") && path.endsWith("/response")) {
        record(exchange, path.split("/")[1], Kind.RESPONSE);
      } else if (method.equals("POST") && path.startsWith("invocation/") && path.endsWith("/error")) {
        record(exchange, path.split("/")[1], Kind.ERROR);
      } else {
        reply(exchange, 404, "{\"errorMessage\":\"unknown path " + path + "\"}");
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private void next(HttpExchange exchange) throws IOException, InterruptedException {
    if (firstNextNanos == 0) {
      firstNextNanos = System.nanoTime();
    }
    String event = null;
    while (event == null && closed.getCount() > 0) {
      event = events.poll(100, TimeUnit.MILLISECONDS);
    }
    if (event == null) {
      return;
    }
    String requestId = UUID.randomUUID().toString();
    exchange.getResponseHeaders().add("Content-Type", "application/json");
    exchange.getResponseHeaders().add("Lambda-Runtime-Aws-Request-Id", requestId);
    exchange.getResponseHeaders().add("Lambda-Runtime-Deadline-Ms", Long.toString(System.currentTimeMillis() + 300_000));
    exchange.getResponseHeaders().add("Lambda-Runtime-Invoked-Function-Arn", functionArn);
    exchange.getResponseHeaders().add("Lambda-Runtime-Trace-Id", "Root=1-00000000-000000000000000000000000;Sampled=0");
    reply(exchange, 200, event);
  }

  private void record(HttpExchange exchange, String requestId, Kind kind) throws IOException {
    String body = new String(exchange.getRequestBody().readAllBytes(), StandardCharsets.UTF_8);
    Optional<String> errorType = Optional.ofNullable(exchange.getRequestHeaders().getFirst("Lambda-Runtime-Function-Error-Type"));
    results.add(new Result(requestId, kind, body, errorType, System.nanoTime()));
    reply(exchange, 202, "{\"status\":\"OK\"}");
  }

  private static void reply(HttpExchange exchange, int status, String body) throws IOException {
    byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
    exchange.sendResponseHeaders(status, bytes.length);
    try (OutputStream out = exchange.getResponseBody()) {
      out.write(bytes);
    }
  }

  /**
   * Serves events from files until killed, for the image script: {@code --event FILE} (repeatable),
   * {@code --port-file FILE} (receives the port once listening), {@code --result-dir DIR} (each
   * result is written as {@code <n>-<kind>.json}, atomically).
   */
  public static void main(String[] args) throws Exception {
    List<String> events = new ArrayList<>();
    Path portFile = null;
    Path resultDir = null;
    for (int i = 0; i < args.length; i += 2) {
      switch (args[i]) {
        case "--event" -> events.add(Files.readString(Path.of(args[i + 1])));
        case "--port-file" -> portFile = Path.of(args[i + 1]);
        case "--result-dir" -> resultDir = Path.of(args[i + 1]);
        default -> throw new IllegalArgumentException("unknown option " + args[i]);
      }
    }
    if (portFile == null || resultDir == null || events.isEmpty()) {
      throw new IllegalArgumentException("usage: LocalRuntimeApi --event FILE... --port-file FILE --result-dir DIR");
    }
    Files.createDirectories(resultDir);
    try (LocalRuntimeApi api = start(0, events, "arn:aws:lambda:us-east-1:000000000000:function:spindrift-cds-training")) {
      Path tmp = Files.createTempFile(portFile.toAbsolutePath().getParent(), "port", ".tmp");
      Files.writeString(tmp, Integer.toString(api.server.getAddress().getPort()));
      Files.move(tmp, portFile, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
      for (int n = 1; ; n++) {
        Result result = api.results.take();
        Path part = resultDir.resolve(n + ".part");
        Files.writeString(part, result.body());
        Files.move(part, resultDir.resolve(n + "-" + result.kind().name().toLowerCase(java.util.Locale.ROOT) + ".json"),
            java.nio.file.StandardCopyOption.ATOMIC_MOVE);
      }
    }
  }
}
