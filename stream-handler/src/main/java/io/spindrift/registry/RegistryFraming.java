package io.spindrift.registry;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.UUID;
import java.util.zip.DataFormatException;
import java.util.zip.Inflater;

/**
 * The two framings schema registries put before a serialized record, told apart by the first byte:
 * <ul>
 *   <li>Confluent's wire format: magic byte {@code 0}, the schema id as a 4-byte big-endian int, then the record
 *       (for Protobuf, first the message indexes: a zigzag varint count, then that many zigzag varint indexes; a
 *       count of 0 means the first message, [0]);
 *   <li>the AWS Glue Schema Registry's: header version byte {@code 3}, a compression byte ({@code 0} none, {@code
 *       5} zlib), the 16-byte schema version UUID, then the record (deflated when compressed; for Protobuf, first
 *       the message's index in its schema file as one unsigned varint).
 * </ul>
 * Anything else is not framed by a registry; {@link FramingException} says which of these a payload breaks.
 */
final class RegistryFraming {
  static final byte CONFLUENT_MAGIC = 0;
  static final byte GLUE_HEADER_VERSION = 3;
  static final byte GLUE_NO_COMPRESSION = 0;
  static final byte GLUE_ZLIB = 5;
  private static final int CONFLUENT_HEADER = 5;
  private static final int GLUE_HEADER = 18;

  private RegistryFraming() {}

  /** A payload's writer schema and its record bytes (after the header; inflated if Glue compressed it). */
  record Framed(SchemaRef schema, byte[] body) {}

  /**
   * Returns the schema reference and record bytes of {@code payload}.
   *
   * @throws FramingException if the payload is empty, truncated, or has neither registry's first byte, or a Glue
   *     compression byte other than none or zlib, or zlib data that does not inflate
   */
  static Framed parse(byte[] payload) {
    if (payload == null || payload.length == 0) {
      throw new FramingException("empty record");
    }
    return switch (payload[0]) {
      case CONFLUENT_MAGIC -> confluent(payload);
      case GLUE_HEADER_VERSION -> glue(payload);
      default -> throw new FramingException(String.format("not framed by a schema registry: first byte 0x%02x"
          + " (expected 0x00, Confluent's magic byte, or 0x03, AWS Glue's header version)", payload[0]));
    };
  }

  private static Framed confluent(byte[] payload) {
    if (payload.length < CONFLUENT_HEADER) {
      throw new FramingException("truncated Confluent framing: " + payload.length
          + " bytes, the header alone is " + CONFLUENT_HEADER);
    }
    int id = ByteBuffer.wrap(payload, 1, 4).getInt();
    return new Framed(new SchemaRef.ConfluentId(id), Arrays.copyOfRange(payload, CONFLUENT_HEADER, payload.length));
  }

  private static Framed glue(byte[] payload) {
    if (payload.length < GLUE_HEADER) {
      throw new FramingException("truncated AWS Glue framing: " + payload.length
          + " bytes, the header alone is " + GLUE_HEADER);
    }
    ByteBuffer header = ByteBuffer.wrap(payload, 2, 16);
    SchemaRef ref = new SchemaRef.GlueVersion(new UUID(header.getLong(), header.getLong()));
    byte[] body = Arrays.copyOfRange(payload, GLUE_HEADER, payload.length);
    return switch (payload[1]) {
      case GLUE_NO_COMPRESSION -> new Framed(ref, body);
      case GLUE_ZLIB -> new Framed(ref, inflate(ref, body));
      default -> throw new FramingException(ref + ": unknown AWS Glue compression byte " + payload[1]
          + " (expected 0, none, or 5, zlib)");
    };
  }

  private static byte[] inflate(SchemaRef ref, byte[] deflated) {
    Inflater inflater = new Inflater();
    try {
      inflater.setInput(deflated);
      ByteArrayOutputStream out = new ByteArrayOutputStream(deflated.length * 4);
      byte[] buffer = new byte[8192];
      while (!inflater.finished()) {
        int n = inflater.inflate(buffer);
        if (n == 0 && (inflater.needsInput() || inflater.needsDictionary())) {
          throw new FramingException(ref + ": truncated zlib data in an AWS Glue payload");
        }
        out.write(buffer, 0, n);
      }
      return out.toByteArray();
    } catch (DataFormatException e) {
      throw new FramingException(ref + ": zlib data in an AWS Glue payload does not inflate: " + e.getMessage());
    } finally {
      inflater.end();
    }
  }

  /**
   * Reads Confluent's Protobuf message indexes at the start of {@code body}.
   *
   * @return the indexes ([0] for the first message of the schema) and the offset where the message starts
   * @throws FramingException if the varints are truncated or the count is negative or absurd
   */
  static MessageIndexes messageIndexes(SchemaRef ref, byte[] body) {
    int[] offset = {0};
    int count = zigzagVarint(ref, body, offset);
    if (count == 0) {
      return new MessageIndexes(new int[] {0}, offset[0]);
    }
    if (count < 0 || count > body.length) {
      throw new FramingException(ref + ": bad Protobuf message index count " + count);
    }
    int[] indexes = new int[count];
    for (int i = 0; i < count; i++) {
      indexes[i] = zigzagVarint(ref, body, offset);
    }
    return new MessageIndexes(indexes, offset[0]);
  }

  /**
   * Reads the AWS Glue serializer's Protobuf message index at the start of {@code body}: one unsigned varint (the
   * message's index in its schema file), not Confluent's zigzag list.
   *
   * @return the index and the offset where the message starts
   * @throws FramingException if the varint is truncated or longer than 5 bytes
   */
  static MessageIndexes glueMessageIndex(SchemaRef ref, byte[] body) {
    int value = 0;
    for (int i = 0, shift = 0; shift < 35; i++, shift += 7) {
      if (i >= body.length) {
        throw new FramingException(ref + ": truncated Protobuf message index");
      }
      value |= (body[i] & 0x7f) << shift;
      if ((body[i] & 0x80) == 0) {
        return new MessageIndexes(new int[] {value}, i + 1);
      }
    }
    throw new FramingException(ref + ": malformed varint in the Protobuf message index");
  }

  /** Protobuf message indexes and where the message itself starts. */
  record MessageIndexes(int[] indexes, int messageOffset) {}

  private static int zigzagVarint(SchemaRef ref, byte[] bytes, int[] offset) {
    int value = 0;
    for (int shift = 0; shift < 35; shift += 7) {
      if (offset[0] >= bytes.length) {
        throw new FramingException(ref + ": truncated Protobuf message indexes");
      }
      byte b = bytes[offset[0]++];
      value |= (b & 0x7f) << shift;
      if ((b & 0x80) == 0) {
        return (value >>> 1) ^ -(value & 1);
      }
    }
    throw new FramingException(ref + ": malformed varint in the Protobuf message indexes");
  }
}
