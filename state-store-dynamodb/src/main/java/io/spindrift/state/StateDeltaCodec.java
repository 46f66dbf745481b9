package io.spindrift.state;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The bytes of a commit's state deltas, for staging them (e.g. as one S3 object the commit record points to) so
 * that any invocation can apply a commit it did not make. Format {@code SDLT} version 1: a count of deltas, then
 * per delta its bucket, its puts (key, value) and its removes (key), every byte string length-prefixed.
 */
public final class StateDeltaCodec {
  private static final int MAGIC = 0x53444c54;
  private static final int VERSION = 1;

  private StateDeltaCodec() {}

  public static byte[] encode(Collection<StateDelta> deltas) {
    ByteArrayOutputStream buffer = new ByteArrayOutputStream();
    try (DataOutputStream out = new DataOutputStream(buffer)) {
      out.writeInt(MAGIC);
      out.writeInt(VERSION);
      out.writeInt(deltas.size());
      for (StateDelta delta : deltas) {
        out.writeLong(delta.bucket().operatorId());
        out.writeUTF(delta.bucket().storeName());
        out.writeInt(delta.bucket().partition());
        out.writeInt(delta.puts().size());
        for (Map.Entry<KeyBytes, byte[]> put : delta.puts().entrySet()) {
          writeBytes(out, put.getKey().bytes());
          writeBytes(out, put.getValue());
        }
        out.writeInt(delta.removes().size());
        for (KeyBytes removed : delta.removes()) {
          writeBytes(out, removed.bytes());
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return buffer.toByteArray();
  }

  public static List<StateDelta> decode(byte[] bytes) {
    try (DataInputStream in = new DataInputStream(new ByteArrayInputStream(bytes))) {
      if (in.readInt() != MAGIC) {
        throw new IllegalArgumentException("Not a Spindrift state delta (bad magic)");
      }
      int version = in.readInt();
      if (version != VERSION) {
        throw new IllegalArgumentException("Unsupported state delta format version " + version);
      }
      int count = in.readInt();
      List<StateDelta> deltas = new ArrayList<>(count);
      for (int i = 0; i < count; i++) {
        StateBucket bucket = new StateBucket(in.readLong(), in.readUTF(), in.readInt());
        int putCount = in.readInt();
        Map<KeyBytes, byte[]> puts = new HashMap<>();
        for (int p = 0; p < putCount; p++) {
          puts.put(KeyBytes.wrap(readBytes(in)), readBytes(in));
        }
        int removeCount = in.readInt();
        Set<KeyBytes> removes = new HashSet<>();
        for (int r = 0; r < removeCount; r++) {
          removes.add(KeyBytes.wrap(readBytes(in)));
        }
        deltas.add(new StateDelta(bucket, puts, removes));
      }
      return deltas;
    } catch (IOException e) {
      throw new IllegalArgumentException("Truncated or corrupt state delta", e);
    }
  }

  private static void writeBytes(DataOutputStream out, byte[] bytes) throws IOException {
    out.writeInt(bytes.length);
    out.write(bytes);
  }

  private static byte[] readBytes(DataInputStream in) throws IOException {
    byte[] bytes = new byte[in.readInt()];
    in.readFully(bytes);
    return bytes;
  }
}
