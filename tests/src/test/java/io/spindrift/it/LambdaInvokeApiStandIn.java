package io.spindrift.it;

import com.sun.net.httpserver.HttpServer;
import io.spindrift.fanout.ChildExecutorHandler;
import io.spindrift.runtime.SpindriftRuntime;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.UnaryOperator;

/**
 * A stand-in for AWS Lambda's Invoke REST API on loopback, for tests only (no Lambda is served here): {@code POST
 * /2015-03-31/functions/<name>/invocations} hands the body to a function in this JVM, normally the child-executor
 * function's handler ({@link ChildExecutorHandler}) over a runtime of the test's, and answers with its response, or
 * with {@code X-Amz-Function-Error: Unhandled} when it throws. It can answer the next requests with Lambda's throttle
 * (HTTP 429, {@code x-amzn-ErrorType: TooManyRequestsException}), and records when each request arrived. Not Lambda:
 * no concurrency limit or payload cap of its own.
 */
final class LambdaInvokeApiStandIn implements AutoCloseable {
  private final HttpServer server;
  private final AtomicInteger throttle = new AtomicInteger();
  private final AtomicInteger throttled = new AtomicInteger();
  private final List<Long> arrivals = new CopyOnWriteArrayList<>();

  LambdaInvokeApiStandIn(String functionName, UnaryOperator<String> function) throws IOException {
    server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    server.createContext("/2015-03-31/functions/" + functionName + "/invocations", exchange -> {
      arrivals.add(System.nanoTime());
      byte[] body = exchange.getRequestBody().readAllBytes();
      exchange.getResponseHeaders().add("Content-Type", "application/json");
      if (throttle.getAndUpdate(n -> Math.max(0, n - 1)) > 0) {
        throttled.incrementAndGet();
        exchange.getResponseHeaders().add("x-amzn-ErrorType", "TooManyRequestsException");
        respond(exchange, 429, "{\"Type\":\"User\",\"Reason\":\"ConcurrentInvocationLimitExceeded\","
            + "\"message\":\"Rate Exceeded.\"}");
        return;
      }
      String response;
      try {
        response = function.apply(new String(body, StandardCharsets.UTF_8));
      } catch (RuntimeException e) {
        exchange.getResponseHeaders().add("X-Amz-Function-Error", "Unhandled");
        response = "{\"errorMessage\":\"" + String.valueOf(e.getMessage()).replace("\"", "'") + "\"}";
      }
      respond(exchange, 200, response);
    });
    server.setExecutor(Executors.newFixedThreadPool(8));
    server.start();
  }

  /** The child-executor function's handler over {@code runtime}, as a function of the invoke payload. */
  static UnaryOperator<String> childExecutor(SpindriftRuntime runtime) {
    ChildExecutorHandler handler = new ChildExecutorHandler(runtime);
    return payload -> {
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      try {
        handler.handleRequest(new ByteArrayInputStream(payload.getBytes(StandardCharsets.UTF_8)), out, null);
      } catch (IOException e) {
        throw new java.io.UncheckedIOException(e);
      }
      return out.toString(StandardCharsets.UTF_8);
    };
  }

  private static void respond(com.sun.net.httpserver.HttpExchange exchange, int status, String body)
      throws IOException {
    byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
    exchange.sendResponseHeaders(status, bytes.length);
    try (OutputStream out = exchange.getResponseBody()) {
      out.write(bytes);
    }
  }

  /** Answers the next {@code requests} requests with Lambda's throttle. */
  void throttleNext(int requests) {
    throttle.set(requests);
  }

  /** Requests answered with the throttle so far. */
  int throttled() {
    return throttled.get();
  }

  /** When each request arrived ({@link System#nanoTime}), in order. */
  List<Long> arrivals() {
    return List.copyOf(arrivals);
  }

  String endpoint() {
    return "http://127.0.0.1:" + server.getAddress().getPort();
  }

  @Override
  public void close() {
    server.stop(0);
  }
}
