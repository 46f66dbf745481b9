package io.spindrift.examples;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class EventInputTest {
  @TempDir
  Path dir;

  @Test
  void jsonLinesBecomePayloadsKeyedByFieldOrLineNumber() throws IOException {
    Path file = Files.writeString(dir.resolve("e.jsonl"), "{\"id\":\"a\",\"n\":1}\n\n{\"n\":2}\n  \n{\"id\":7}\n");

    EventInput input = EventInput.fromFile(file, EventInput.LineFormat.JSON, "id");

    assertThat(input.events()).extracting(EventInput.Event::key).containsExactly("a", "line-3", "7");
    assertThat(new String(input.events().get(1).payload(), StandardCharsets.UTF_8)).isEqualTo("{\"n\":2}");
  }

  @Test
  void base64LinesAreDecodedToTheirBytes() throws IOException {
    byte[] binary = {0, (byte) 0xff, 42, 10};
    Path file = Files.writeString(dir.resolve("e.b64"), Base64.getEncoder().encodeToString(binary) + "\n");

    EventInput input = EventInput.fromFile(file, EventInput.LineFormat.BASE64, null);

    assertThat(input.events()).singleElement().satisfies(e -> assertThat(e.payload()).isEqualTo(binary));
  }

  @Test
  void aBadLineIsNamedWithItsNumber() throws IOException {
    Path json = Files.writeString(dir.resolve("e.jsonl"), "{\"a\":1}\n{\"a\":1} trailing\n");
    Path b64 = Files.writeString(dir.resolve("e.b64"), "AAE=\n\n***\n");

    assertThatThrownBy(() -> EventInput.fromFile(json, EventInput.LineFormat.JSON, null))
        .hasMessageStartingWith(json + " line 2: not valid JSON");
    assertThatThrownBy(() -> EventInput.fromFile(b64, EventInput.LineFormat.BASE64, null))
        .hasMessageStartingWith(b64 + " line 3: not base64");
  }

  @Test
  void textLinesAreSentAsTheyAre() throws IOException {
    Path file = Files.writeString(dir.resolve("e.txt"), "{not json\n");

    EventInput input = EventInput.fromFile(file, EventInput.LineFormat.TEXT, null);

    assertThat(new String(input.events().get(0).payload(), StandardCharsets.UTF_8)).isEqualTo("{not json");
  }
}
