package io.spindrift.state;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Map;
import software.amazon.awssdk.core.SdkBytes;
import software.amazon.awssdk.services.dynamodb.model.AttributeValue;

/**
 * How one app's state is laid out in its DynamoDB table (the layout {@link StateTable} documents): the partition key
 * of a bucket and of the app's schemas, a row's sort key (inline key bytes, or the SHA-256 of a long key), the
 * bucket's marker item, and the attribute values they are made of.
 */
final class StateItems {
  static final byte MARKER = 0x00;
  static final byte INLINE_KEY = 0x01;
  static final byte HASHED_KEY = 0x02;
  static final int MAX_INLINE_KEY_BYTES = 1000;

  private final String app;

  StateItems(String app) {
    this.app = app;
  }

  String bucketPk(StateBucket bucket) {
    return "APP#" + app + "#OP#" + bucket.operatorId() + "#STORE#" + bucket.storeName() + "#P#" + bucket.partition();
  }

  Map<String, AttributeValue> markerKey(StateBucket bucket) {
    return Map.of("pk", s(bucketPk(bucket)), "sk", b(new byte[] {MARKER}));
  }

  Map<String, AttributeValue> schemaKey(String sk) {
    return Map.of("pk", s("APP#" + app + "#SCHEMA"), "sk", b(sk.getBytes(StandardCharsets.UTF_8)));
  }

  static byte[] sortKey(KeyBytes key) {
    byte[] bytes = key.bytes();
    if (bytes.length > MAX_INLINE_KEY_BYTES) {
      return prefixed(HASHED_KEY, sha256(bytes));
    }
    return prefixed(INLINE_KEY, bytes);
  }

  /** The key of the row item {@code item} whose sort key is {@code sk}. */
  static KeyBytes keyOf(byte[] sk, Map<String, AttributeValue> item) {
    if (sk[0] == HASHED_KEY) {
      return KeyBytes.wrap(item.get("k").b().asByteArray());
    }
    byte[] key = new byte[sk.length - 1];
    System.arraycopy(sk, 1, key, 0, key.length);
    return KeyBytes.wrap(key);
  }

  static byte[] sha256(byte[] bytes) {
    try {
      return MessageDigest.getInstance("SHA-256").digest(bytes);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is missing from this JVM", e);
    }
  }

  private static byte[] prefixed(byte tag, byte[] bytes) {
    byte[] out = new byte[bytes.length + 1];
    out[0] = tag;
    System.arraycopy(bytes, 0, out, 1, bytes.length);
    return out;
  }

  static AttributeValue s(String value) {
    return AttributeValue.builder().s(value).build();
  }

  static AttributeValue n(long value) {
    return AttributeValue.builder().n(Long.toString(value)).build();
  }

  static AttributeValue b(byte[] value) {
    return AttributeValue.builder().b(SdkBytes.fromByteArrayUnsafe(value)).build();
  }
}
