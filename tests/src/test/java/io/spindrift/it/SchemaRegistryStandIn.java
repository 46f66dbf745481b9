package io.spindrift.it;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A STAND-IN for two schema registries, for tests only: not a schema registry product, and no real one is served
 * here. One loopback HTTP server (JDK {@code com.sun.net.httpserver}) speaking the documented subset a producer and
 * Spindrift use:
 * <ul>
 *   <li>Confluent Schema Registry REST API: {@code POST /subjects/{subject}/versions} (register; the same schema
 *       text keeps its id), {@code GET /schemas/ids/{id}} ({@code schemaType} omitted for Avro, 404 with error code
 *       40403 for an unknown id), {@code GET /subjects/{subject}/versions/latest};
 *   <li>AWS Glue's JSON 1.1 API ({@code POST /}, header {@code X-Amz-Target: AWSGlue.<Action>}): {@code
 *       CreateSchema}, {@code RegisterSchemaVersion} (versions are {@code AVAILABLE} at once: no compatibility
 *       check), {@code GetSchemaVersion} (by {@code SchemaVersionId}, or a schema's latest version), {@code
 *       EntityNotFoundException} for an unknown one; and what the AWS Glue serializer ({@code
 *       schema-registry-serde}) calls when it writes with auto-registration: {@code GetSchemaByDefinition} and
 *       {@code PutSchemaVersionMetadata} (accepted, not kept).
 * </ul>
 * It counts the schema reads it served, so a test can check that a container fetches each id once.
 */
final class SchemaRegistryStandIn implements AutoCloseable {
  private static final ObjectMapper JSON = new ObjectMapper();

  private record Stored(String text, String format, String subject, int version) {}

  private final HttpServer server;
  private final List<Stored> confluent = new ArrayList<>();
  private final Map<UUID, Stored> glue = new ConcurrentHashMap<>();
  private final Map<String, AtomicInteger> reads = new ConcurrentHashMap<>();

  SchemaRegistryStandIn() throws IOException {
    server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
    server.createContext("/", this::handle);
    server.start();
  }

  /** The base URL, for SPINDRIFT_SCHEMA_REGISTRY_URL and SPINDRIFT_GLUE_ENDPOINT. */
  String url() {
    return "http://127.0.0.1:" + server.getAddress().getPort();
  }

  /** Registers {@code text} under {@code subject} as a producer's serializer would; returns its Confluent id. */
  synchronized int registerConfluent(String subject, String text, String format) {
    for (int i = 0; i < confluent.size(); i++) {
      if (confluent.get(i).text().equals(text)) {
        return i + 1;
      }
    }
    int version = (int) confluent.stream().filter(s -> s.subject().equals(subject)).count() + 1;
    confluent.add(new Stored(text, format, subject, version));
    return confluent.size();
  }

  /** Times a schema was read by id ({@code confluent:<id>} or {@code glue:<uuid>}). */
  int reads(String key) {
    AtomicInteger count = reads.get(key);
    return count == null ? 0 : count.get();
  }

  private void handle(HttpExchange exchange) throws IOException {
    try (exchange) {
      String path = exchange.getRequestURI().getPath();
      String target = exchange.getRequestHeaders().getFirst("X-Amz-Target");
      JsonNode body = exchange.getRequestMethod().equals("POST")
          ? JSON.readTree(exchange.getRequestBody().readAllBytes()) : null;
      if (target != null) {
        glue(exchange, target.substring(target.indexOf('.') + 1), body);
      } else if (path.startsWith("/schemas/ids/")) {
        schemaById(exchange, Integer.parseInt(path.substring("/schemas/ids/".length())));
      } else if (path.startsWith("/subjects/") && path.endsWith("/versions") && body != null) {
        String subject = path.substring("/subjects/".length(), path.length() - "/versions".length());
        int id = registerConfluent(subject, body.path("schema").asText(), body.path("schemaType").asText("AVRO"));
        send(exchange, 200, JSON.createObjectNode().put("id", id));
      } else if (path.startsWith("/subjects/") && path.endsWith("/versions/latest")) {
        latest(exchange, path.substring("/subjects/".length(), path.length() - "/versions/latest".length()));
      } else {
        send(exchange, 404, JSON.createObjectNode().put("error_code", 404).put("message", "HTTP 404 Not Found"));
      }
    }
  }

  private synchronized void schemaById(HttpExchange exchange, int id) throws IOException {
    reads.computeIfAbsent("confluent:" + id, k -> new AtomicInteger()).incrementAndGet();
    if (id < 1 || id > confluent.size()) {
      send(exchange, 404, JSON.createObjectNode().put("error_code", 40403).put("message", "Schema not found"));
      return;
    }
    Stored stored = confluent.get(id - 1);
    ObjectNode answer = JSON.createObjectNode().put("schema", stored.text());
    if (!stored.format().equals("AVRO")) {
      answer.put("schemaType", stored.format());
    }
    send(exchange, 200, answer);
  }

  private synchronized void latest(HttpExchange exchange, String subject) throws IOException {
    for (int i = confluent.size() - 1; i >= 0; i--) {
      Stored stored = confluent.get(i);
      if (stored.subject().equals(subject)) {
        send(exchange, 200, JSON.createObjectNode().put("subject", subject).put("version", stored.version())
            .put("id", i + 1).put("schema", stored.text()));
        return;
      }
    }
    send(exchange, 404, JSON.createObjectNode().put("error_code", 40401).put("message", "Subject not found"));
  }

  private void glue(HttpExchange exchange, String action, JsonNode body) throws IOException {
    switch (action) {
      case "CreateSchema" -> {
        String subject = body.path("RegistryId").path("RegistryName").asText() + "/" + body.path("SchemaName").asText();
        UUID id = UUID.randomUUID();
        String format = body.path("DataFormat").asText("AVRO");
        glue.put(id, new Stored(body.path("SchemaDefinition").asText(), format, subject, 1));
        send(exchange, 200, JSON.createObjectNode().put("SchemaVersionId", id.toString())
            .put("SchemaName", body.path("SchemaName").asText()).put("DataFormat", format)
            .put("LatestSchemaVersion", 1).put("SchemaVersionStatus", "AVAILABLE"));
      }
      case "RegisterSchemaVersion" -> {
        String subject = body.path("SchemaId").path("RegistryName").asText() + "/"
            + body.path("SchemaId").path("SchemaName").asText();
        String text = body.path("SchemaDefinition").asText();
        UUID id = glue.entrySet().stream().filter(e -> e.getValue().text().equals(text)).map(Map.Entry::getKey)
            .findFirst().orElse(null);
        if (id == null) {
          id = UUID.randomUUID();
          int version = (int) glue.values().stream().filter(s -> s.subject().equals(subject)).count() + 1;
          String format = glue.values().stream().filter(s -> s.subject().equals(subject)).map(Stored::format)
              .findFirst().orElse("AVRO");
          glue.put(id, new Stored(text, format, subject, version));
        }
        send(exchange, 200, JSON.createObjectNode().put("SchemaVersionId", id.toString())
            .put("VersionNumber", glue.get(id).version()).put("Status", "AVAILABLE"));
      }
      case "GetSchemaByDefinition" -> schemaByDefinition(exchange, body);
      case "PutSchemaVersionMetadata" -> send(exchange, 200, JSON.createObjectNode()
          .put("SchemaVersionId", body.path("SchemaVersionId").asText())
          .put("MetadataKey", body.path("MetadataKeyValue").path("MetadataKey").asText())
          .put("MetadataValue", body.path("MetadataKeyValue").path("MetadataValue").asText()));
      case "GetSchemaVersion" -> {
        String id = body.path("SchemaVersionId").asText(null);
        Map.Entry<UUID, Stored> found = id != null ? glueVersion(id) : glueLatest(body.path("SchemaId"));
        if (id != null) {
          reads.computeIfAbsent("glue:" + id, k -> new AtomicInteger()).incrementAndGet();
        }
        if (found == null) {
          sendGlueError(exchange, "EntityNotFoundException", "Schema version is not found.");
          return;
        }
        send(exchange, 200, JSON.createObjectNode().put("SchemaVersionId", found.getKey().toString())
            .put("SchemaDefinition", found.getValue().text()).put("DataFormat", found.getValue().format())
            .put("SchemaArn", "arn:aws:glue:us-east-1:000000000000:schema/" + found.getValue().subject())
            .put("VersionNumber", found.getValue().version()).put("Status", "AVAILABLE"));
      }
      default -> sendGlueError(exchange, "InvalidInputException", "The stand-in does not implement " + action);
    }
  }

  /**
   * Glue's GetSchemaByDefinition, which the AWS Glue serializer calls first for each schema it writes with; its two
   * "not found" messages are the ones the serializer reads to decide between CreateSchema and RegisterSchemaVersion.
   */
  private void schemaByDefinition(HttpExchange exchange, JsonNode body) throws IOException {
    String subject = body.path("SchemaId").path("RegistryName").asText() + "/"
        + body.path("SchemaId").path("SchemaName").asText();
    String text = body.path("SchemaDefinition").asText();
    if (glue.values().stream().noneMatch(s -> s.subject().equals(subject))) {
      sendGlueError(exchange, "EntityNotFoundException", "Schema is not found.");
      return;
    }
    Map.Entry<UUID, Stored> found = glue.entrySet().stream()
        .filter(e -> e.getValue().subject().equals(subject) && e.getValue().text().equals(text))
        .findFirst().orElse(null);
    if (found == null) {
      sendGlueError(exchange, "EntityNotFoundException", "Schema version is not found.");
      return;
    }
    send(exchange, 200, JSON.createObjectNode().put("SchemaVersionId", found.getKey().toString())
        .put("SchemaArn", "arn:aws:glue:us-east-1:000000000000:schema/" + subject)
        .put("DataFormat", found.getValue().format()).put("Status", "AVAILABLE"));
  }

  private Map.Entry<UUID, Stored> glueVersion(String id) {
    try {
      UUID uuid = UUID.fromString(id);
      return glue.containsKey(uuid) ? Map.entry(uuid, glue.get(uuid)) : null;
    } catch (IllegalArgumentException e) {
      return null;
    }
  }

  private Map.Entry<UUID, Stored> glueLatest(JsonNode schemaId) {
    String subject = schemaId.path("RegistryName").asText() + "/" + schemaId.path("SchemaName").asText();
    return glue.entrySet().stream().filter(e -> e.getValue().subject().equals(subject))
        .max((a, b) -> Integer.compare(a.getValue().version(), b.getValue().version())).orElse(null);
  }

  private static void sendGlueError(HttpExchange exchange, String type, String message) throws IOException {
    exchange.getResponseHeaders().set("x-amzn-ErrorType", type);
    send(exchange, 400, JSON.createObjectNode().put("__type", type).put("Message", message));
  }

  private static void send(HttpExchange exchange, int status, ObjectNode body) throws IOException {
    byte[] bytes = body.toString().getBytes(StandardCharsets.UTF_8);
    exchange.getResponseHeaders().set("Content-Type", "application/x-amz-json-1.1");
    exchange.sendResponseHeaders(status, bytes.length);
    try (OutputStream out = exchange.getResponseBody()) {
      out.write(bytes);
    }
  }

  @Override
  public void close() {
    server.stop(0);
  }
}
