package io.spindrift.registry;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.UUID;
import java.util.zip.Deflater;
import java.util.zip.DeflaterOutputStream;
import org.junit.jupiter.api.Test;

class RegistryFramingTest {
  private static final byte[] RECORD = "record bytes".getBytes(StandardCharsets.UTF_8);
  private static final UUID VERSION = UUID.fromString("0f8e1d2c-3b4a-5968-7766-554433221100");

  private static byte[] confluent(int id, byte[] body) {
    return ByteBuffer.allocate(5 + body.length).put((byte) 0).putInt(id).put(body).array();
  }

  private static byte[] glue(byte compression, byte[] body) {
    return ByteBuffer.allocate(18 + body.length).put((byte) 3).put(compression)
        .putLong(VERSION.getMostSignificantBits()).putLong(VERSION.getLeastSignificantBits()).put(body).array();
  }

  @Test
  void confluentFramingNamesTheSchemaIdBigEndian() {
    RegistryFraming.Framed framed = RegistryFraming.parse(confluent(0x01020304, RECORD));

    assertThat(framed.schema()).isEqualTo(new SchemaRef.ConfluentId(0x01020304));
    assertThat(framed.schema()).hasToString("Confluent schema id 16909060");
    assertThat(framed.body()).isEqualTo(RECORD);
  }

  @Test
  void glueFramingNamesTheSchemaVersionUuid() {
    RegistryFraming.Framed framed = RegistryFraming.parse(glue((byte) 0, RECORD));

    assertThat(framed.schema()).isEqualTo(new SchemaRef.GlueVersion(VERSION));
    assertThat(framed.body()).isEqualTo(RECORD);
  }

  @Test
  void glueZlibCompressedRecordsAreInflated() throws Exception {
    ByteArrayOutputStream deflated = new ByteArrayOutputStream();
    try (DeflaterOutputStream out = new DeflaterOutputStream(deflated, new Deflater())) {
      out.write(RECORD);
    }

    assertThat(RegistryFraming.parse(glue((byte) 5, deflated.toByteArray())).body()).isEqualTo(RECORD);
  }

  @Test
  void unreadableFramingsSayWhy() {
    assertThatThrownBy(() -> RegistryFraming.parse(new byte[0])).hasMessage("empty record");
    assertThatThrownBy(() -> RegistryFraming.parse("{\"a\":1}".getBytes(StandardCharsets.UTF_8)))
        .isInstanceOf(FramingException.class)
        .hasMessageContaining("first byte 0x7b").hasMessageContaining("0x00").hasMessageContaining("0x03");
    assertThatThrownBy(() -> RegistryFraming.parse(new byte[] {0, 0, 1}))
        .hasMessageContaining("truncated Confluent framing: 3 bytes");
    assertThatThrownBy(() -> RegistryFraming.parse(new byte[] {3, 0, 1, 2}))
        .hasMessageContaining("truncated AWS Glue framing: 4 bytes");
    assertThatThrownBy(() -> RegistryFraming.parse(glue((byte) 7, RECORD)))
        .hasMessageContaining("Glue schema version " + VERSION).hasMessageContaining("compression byte 7");
    assertThatThrownBy(() -> RegistryFraming.parse(glue((byte) 5, RECORD)))
        .hasMessageContaining("Glue schema version " + VERSION).hasMessageContaining("zlib");
  }

  @Test
  void confluentProtobufMessageIndexesAreZigzagVarints() {
    SchemaRef ref = new SchemaRef.ConfluentId(7);
    // count 0: the first message, [0]
    assertThat(RegistryFraming.messageIndexes(ref, new byte[] {0, 42}).indexes()).containsExactly(0);
    assertThat(RegistryFraming.messageIndexes(ref, new byte[] {0, 42}).messageOffset()).isEqualTo(1);
    // count 2 (zigzag 4), indexes 1 (2) and 70 (140 = 0x8c 0x01)
    RegistryFraming.MessageIndexes two = RegistryFraming.messageIndexes(ref, new byte[] {4, 2, (byte) 0x8c, 1, 42});
    assertThat(two.indexes()).containsExactly(1, 70);
    assertThat(two.messageOffset()).isEqualTo(4);
    assertThatThrownBy(() -> RegistryFraming.messageIndexes(ref, new byte[] {4, 2}))
        .hasMessageContaining("Confluent schema id 7: truncated Protobuf message indexes");
  }

  @Test
  void glueProtobufMessageIndexIsOneUnsignedVarint() {
    SchemaRef ref = new SchemaRef.GlueVersion(VERSION);
    RegistryFraming.MessageIndexes first = RegistryFraming.glueMessageIndex(ref, new byte[] {0, 8, 1});
    assertThat(first.indexes()).containsExactly(0);
    assertThat(first.messageOffset()).isEqualTo(1);
    // 300 = 0xac 0x02, unsigned (Confluent's zigzag would read 150)
    RegistryFraming.MessageIndexes later = RegistryFraming.glueMessageIndex(ref, new byte[] {(byte) 0xac, 2, 8});
    assertThat(later.indexes()).containsExactly(300);
    assertThat(later.messageOffset()).isEqualTo(2);
    assertThatThrownBy(() -> RegistryFraming.glueMessageIndex(ref, new byte[] {(byte) 0x80}))
        .hasMessageContaining("Glue schema version " + VERSION + ": truncated Protobuf message index");
  }
}
