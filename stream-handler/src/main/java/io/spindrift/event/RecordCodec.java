package io.spindrift.event;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.AbstractMap;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The bytes of source records as fan-out exchanges them through S3 (format {@code SREC} version 2): a count, then
 * per record a kind byte and its fields, byte strings length-prefixed (-1 for null); a Kinesis record's
 * sub-sequence number (-1 for none) and explicit hash key (empty for none) follow its sequence number; kind 3 is a
 * line of an S3 object (a batch run over S3). Written by hand: it is a few
 * fixed fields, and a general serializer (Kryo, Avro) would add a schema step for no gain here.
 */
public final class RecordCodec {
  private static final int MAGIC = 0x53524543;
  private static final int VERSION = 2;
  private static final byte KINESIS = 1;
  private static final byte KAFKA = 2;
  private static final byte S3_LINE = 3;

  private RecordCodec() {}

  public static byte[] encode(List<? extends SourceRecord> records) {
    ByteArrayOutputStream buffer = new ByteArrayOutputStream(Math.max(64, records.size() * 160));
    try (DataOutputStream out = new DataOutputStream(buffer)) {
      out.writeInt(MAGIC);
      out.writeInt(VERSION);
      out.writeInt(records.size());
      for (SourceRecord record : records) {
        write(out, record);
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return buffer.toByteArray();
  }

  public static List<SourceRecord> decode(byte[] bytes) {
    try (DataInputStream in = new DataInputStream(new ByteArrayInputStream(bytes))) {
      if (in.readInt() != MAGIC) {
        throw new IllegalArgumentException("Not a Spindrift record block (bad magic)");
      }
      int version = in.readInt();
      if (version != VERSION) {
        throw new IllegalArgumentException("Unsupported record block version " + version);
      }
      int count = in.readInt();
      List<SourceRecord> records = new ArrayList<>(count);
      for (int i = 0; i < count; i++) {
        records.add(read(in));
      }
      return records;
    } catch (IOException e) {
      throw new IllegalArgumentException("Truncated or corrupt record block", e);
    }
  }

  private static void write(DataOutputStream out, SourceRecord source) throws IOException {
    if (source instanceof KinesisRecord record) {
      out.writeByte(KINESIS);
      out.writeUTF(record.streamName());
      out.writeUTF(record.shardId());
      out.writeUTF(record.partitionKey());
      out.writeUTF(record.sequenceNumber());
      out.writeLong(record.isSubRecord() ? record.subSequenceNumber() : -1);
      out.writeUTF(record.explicitHashKey() == null ? "" : record.explicitHashKey());
      out.writeLong(record.arrivalMs());
      writeBytes(out, record.data());
    } else if (source instanceof KafkaRecord record) {
      out.writeByte(KAFKA);
      out.writeUTF(record.topic());
      out.writeInt(record.partition());
      out.writeLong(record.offset());
      out.writeLong(record.timestampMs());
      out.writeInt(record.timestampType());
      writeBytes(out, record.key());
      writeBytes(out, record.value());
      out.writeInt(record.headers().size());
      for (Map.Entry<String, byte[]> header : record.headers()) {
        out.writeUTF(header.getKey());
        writeBytes(out, header.getValue());
      }
    } else if (source instanceof S3LineRecord record) {
      out.writeByte(S3_LINE);
      out.writeUTF(record.kind().name());
      out.writeUTF(record.bucket());
      out.writeUTF(record.prefix());
      out.writeUTF(record.key());
      out.writeInt(record.objectIndex());
      out.writeLong(record.offset());
      out.writeLong(record.lastModifiedMs());
      writeBytes(out, record.data());
    } else {
      throw new IllegalArgumentException("Cannot encode a " + source.getClass().getName());
    }
  }

  private static SourceRecord read(DataInputStream in) throws IOException {
    byte kind = in.readByte();
    if (kind == KINESIS) {
      String stream = in.readUTF();
      String shardId = in.readUTF();
      String partitionKey = in.readUTF();
      String sequenceNumber = in.readUTF();
      long sub = in.readLong();
      String explicitHashKey = in.readUTF();
      return new KinesisRecord(stream, shardId, partitionKey, sequenceNumber, sub < 0 ? null : sub,
          explicitHashKey.isEmpty() ? null : explicitHashKey, in.readLong(), readBytes(in));
    }
    if (kind == S3_LINE) {
      return new S3LineRecord(SourceKind.valueOf(in.readUTF()), in.readUTF(), in.readUTF(), in.readUTF(),
          in.readInt(), in.readLong(), in.readLong(), readBytes(in));
    }
    if (kind != KAFKA) {
      throw new IllegalArgumentException("Unknown record kind " + kind);
    }
    String topic = in.readUTF();
    int partition = in.readInt();
    long offset = in.readLong();
    long timestampMs = in.readLong();
    int timestampType = in.readInt();
    byte[] key = readBytes(in);
    byte[] value = readBytes(in);
    int headerCount = in.readInt();
    List<Map.Entry<String, byte[]>> headers = new ArrayList<>(headerCount);
    for (int h = 0; h < headerCount; h++) {
      headers.add(new AbstractMap.SimpleImmutableEntry<>(in.readUTF(), readBytes(in)));
    }
    return new KafkaRecord(topic, partition, offset, timestampMs, timestampType, key, value, headers);
  }

  private static void writeBytes(DataOutputStream out, byte[] bytes) throws IOException {
    if (bytes == null) {
      out.writeInt(-1);
      return;
    }
    out.writeInt(bytes.length);
    out.write(bytes);
  }

  private static byte[] readBytes(DataInputStream in) throws IOException {
    int length = in.readInt();
    if (length < 0) {
      return null;
    }
    byte[] bytes = new byte[length];
    in.readFully(bytes);
    return bytes;
  }
}
