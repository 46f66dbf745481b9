package io.spindrift.registry;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;

/**
 * A Confluent-compatible schema registry over its REST API: {@code GET /schemas/ids/{id}} for a writer schema and
 * {@code GET /subjects/{subject}/versions/latest} for a reader schema. A 404 is an unknown id or subject; any
 * other failure says the registry could not be read. Confluent's client jars are not used.
 */
final class ConfluentRegistry {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Duration TIMEOUT = Duration.ofSeconds(10);

  private final String baseUrl;
  private final HttpClient http;

  ConfluentRegistry(String baseUrl) {
    this.baseUrl = baseUrl.replaceAll("/+$", "");
    this.http = HttpClient.newBuilder().connectTimeout(TIMEOUT).build();
  }

  /**
   * Returns the schema with {@code id}.
   *
   * @throws SchemaUnavailableException if the registry does not know the id or cannot be read
   */
  RegisteredSchema schema(int id) {
    return read("/schemas/ids/" + id, "Confluent schema id " + id);
  }

  /** Returns the latest version of {@code subject}'s schema; throws as {@link #schema}. */
  RegisteredSchema latest(String subject) {
    return read("/subjects/" + URLEncoder.encode(subject, StandardCharsets.UTF_8) + "/versions/latest",
        "Confluent subject '" + subject + "'");
  }

  private RegisteredSchema read(String path, String what) {
    HttpRequest request = HttpRequest.newBuilder(URI.create(baseUrl + path)).timeout(TIMEOUT)
        .header("Accept", "application/vnd.schemaregistry.v1+json, application/json").GET().build();
    HttpResponse<String> response;
    try {
      response = http.send(request, HttpResponse.BodyHandlers.ofString());
    } catch (IOException e) {
      throw new SchemaUnavailableException(what + ": the registry at " + baseUrl + " cannot be reached (" + e + ")");
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new SchemaUnavailableException(what + ": interrupted while reading the registry at " + baseUrl);
    }
    if (response.statusCode() == 404) {
      throw new SchemaUnavailableException(what + ": unknown to the registry at " + baseUrl);
    }
    if (response.statusCode() != 200) {
      throw new SchemaUnavailableException(what + ": the registry at " + baseUrl + " answered HTTP "
          + response.statusCode() + " " + response.body());
    }
    try {
      JsonNode body = JSON.readTree(response.body());
      return new RegisteredSchema(body.path("schema").asText(), body.path("schemaType").asText("AVRO"));
    } catch (IOException e) {
      throw new SchemaUnavailableException(what + ": the registry at " + baseUrl + " answered no JSON");
    }
  }
}
