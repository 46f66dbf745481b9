package io.spindrift.it;

import com.sun.net.httpserver.HttpServer;
import io.spindrift.local.mapping.LambdaInvoker;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * A stand-in for AWS Lambda's Invoke REST API on loopback, for tests only: {@code POST
 * /2015-03-31/functions/<name>/invocations} hands the body to a handler in this JVM (through {@link LambdaInvoker},
 * as the local event-source mapping does) and answers with its response, or with {@code X-Amz-Function-Error:
 * Unhandled} when it throws. It records each request body's size. Not Lambda: no throttling, no concurrency limit,
 * no payload cap of its own.
 */
final class ReplayInvokeApiStandIn implements AutoCloseable {
  private final HttpServer server;
  private final List<Integer> payloadSizes = new CopyOnWriteArrayList<>();

  ReplayInvokeApiStandIn(String functionName, LambdaInvoker function) throws IOException {
    server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    server.createContext("/2015-03-31/functions/" + functionName + "/invocations", exchange -> {
      byte[] body = exchange.getRequestBody().readAllBytes();
      payloadSizes.add(body.length);
      byte[] response;
      try {
        response = function.invoke(new String(body, StandardCharsets.UTF_8)).getBytes(StandardCharsets.UTF_8);
      } catch (LambdaInvoker.FunctionError | RuntimeException e) {
        exchange.getResponseHeaders().add("X-Amz-Function-Error", "Unhandled");
        response = ("{\"errorMessage\":\"" + String.valueOf(e.getMessage()).replace("\"", "'") + "\"}")
            .getBytes(StandardCharsets.UTF_8);
      }
      exchange.getResponseHeaders().add("Content-Type", "application/json");
      exchange.sendResponseHeaders(200, response.length);
      try (OutputStream out = exchange.getResponseBody()) {
        out.write(response);
      }
    });
    server.setExecutor(java.util.concurrent.Executors.newFixedThreadPool(4));
    server.start();
  }

  String endpoint() {
    return "http://127.0.0.1:" + server.getAddress().getPort();
  }

  /** The size in bytes of every event invoked so far. */
  List<Integer> payloadSizes() {
    return List.copyOf(payloadSizes);
  }

  @Override
  public void close() {
    server.stop(0);
  }
}
