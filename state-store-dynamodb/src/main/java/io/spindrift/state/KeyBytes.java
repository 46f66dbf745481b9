package io.spindrift.state;

import java.util.Arrays;
import java.util.HexFormat;

/**
 * The bytes of one state key (a Spark {@code UnsafeRow}'s bytes), compared by content. The array is never
 * handed out for writing: callers copy before wrapping and never change what they wrapped.
 */
public final class KeyBytes {
  private final byte[] bytes;
  private final int hash;

  private KeyBytes(byte[] bytes) {
    this.bytes = bytes;
    this.hash = Arrays.hashCode(bytes);
  }

  /** Wraps {@code bytes} without copying; the caller gives up the right to change them. */
  public static KeyBytes wrap(byte[] bytes) {
    return new KeyBytes(bytes);
  }

  /** The key's bytes; do not modify them. */
  public byte[] bytes() {
    return bytes;
  }

  public int length() {
    return bytes.length;
  }

  @Override
  public boolean equals(Object other) {
    return other instanceof KeyBytes key && hash == key.hash && Arrays.equals(bytes, key.bytes);
  }

  @Override
  public int hashCode() {
    return hash;
  }

  @Override
  public String toString() {
    return HexFormat.of().formatHex(bytes);
  }
}
