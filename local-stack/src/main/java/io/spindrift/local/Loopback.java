package io.spindrift.local;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;

/** Ports and probes on 127.0.0.1. */
final class Loopback {
  static final String HOST = "127.0.0.1";
  private static final Duration PROBE_TIMEOUT = Duration.ofSeconds(2);
  private static final HttpClient HTTP = HttpClient.newBuilder()
      .version(HttpClient.Version.HTTP_1_1)
      .connectTimeout(PROBE_TIMEOUT)
      .build();

  private Loopback() {}

  /** A port that was free a moment ago; the child that binds it follows closely. */
  static int freePort() {
    try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getByName(HOST))) {
      return socket.getLocalPort();
    } catch (IOException e) {
      throw new UncheckedIOException("No free port on " + HOST, e);
    }
  }

  static boolean acceptsConnections(int port) {
    try (Socket socket = new Socket()) {
      socket.connect(new InetSocketAddress(HOST, port), (int) PROBE_TIMEOUT.toMillis());
      return true;
    } catch (IOException e) {
      return false;
    }
  }

  /** Status of an HTTP GET; throws while nothing answers. */
  static int get(String endpoint) throws IOException, InterruptedException {
    HttpRequest request = HttpRequest.newBuilder(URI.create(endpoint + "/")).timeout(PROBE_TIMEOUT).GET().build();
    return HTTP.send(request, HttpResponse.BodyHandlers.discarding()).statusCode();
  }

  /**
   * Status of an AWS JSON-protocol call with an empty request body, e.g. {@code DynamoDB_20120810.ListTables};
   * emulators check that a SigV4 header is present but not its signature.
   */
  static int postAwsJson(String endpoint, String service, String target, String contentType)
      throws IOException, InterruptedException {
    String date = ZonedDateTime.now(ZoneOffset.UTC).format(DateTimeFormatter.ofPattern("yyyyMMdd'T'HHmmss'Z'"));
    HttpRequest request = HttpRequest.newBuilder(URI.create(endpoint + "/"))
        .timeout(PROBE_TIMEOUT)
        .header("Content-Type", contentType)
        .header("X-Amz-Target", target)
        .header("X-Amz-Date", date)
        .header("Authorization", "AWS4-HMAC-SHA256 Credential=local/" + date.substring(0, 8) + "/us-east-1/"
            + service + "/aws4_request, SignedHeaders=content-type;host;x-amz-date;x-amz-target, Signature=0")
        .POST(HttpRequest.BodyPublishers.ofString("{}"))
        .build();
    return HTTP.send(request, HttpResponse.BodyHandlers.discarding()).statusCode();
  }
}
