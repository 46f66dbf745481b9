package io.spindrift.fanout;

import io.spindrift.commit.LaneRange;
import io.spindrift.event.RecordCodec;
import io.spindrift.event.SourceKind;
import io.spindrift.event.SourceRecord;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import software.amazon.awssdk.core.ResponseBytes;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.GetObjectResponse;
import software.amazon.awssdk.services.s3.model.NoSuchKeyException;

/**
 * Where a fan-out's data lives in S3, and the only code that reads or writes it. Every key is derived from the app
 * and the exchange id (itself derived from the batch's lane ranges and the plan), never listed: a parent that died
 * and is retried finds its children's results with GETs. Keys are spread over 256 prefixes by a hash (S3 serves
 * about 3,500 PUT and 5,500 GET per second per prefix).
 *
 * <p>Layout under {@code s3://<bucket>/<app>/shuffle/<xx>/<exchange>/}: {@code input} (every split's records in one
 * object, write-combined; a child reads its split with one ranged GET), {@code plan} (written once the input is
 * complete: its presence tells a retried parent the input need not be written again) and {@code result-<role>-<i>}
 * (each child's manifest). Expired by the bucket's lifecycle rule for {@code <app>/shuffle/} (CDK): a commit never references them.
 */
public final class Exchange {
  private final S3Client s3;
  private final String bucket;

  public Exchange(S3Client s3, String bucket) {
    this.s3 = s3;
    this.bucket = bucket;
  }

  /** The byte range of each split in the input object, in split order. */
  public record Input(String key, long[] offsets, long[] lengths) {}

  /**
   * The exchange id of a batch: the same for every attempt at the same records under the same plan (a retried or
   * duplicated parent finds the same keys), different for any other input, plan or, for a stateful job, head.
   */
  public static String id(String app, SourceKind kind, List<LaneRange> ranges, long stateHead, String plan) {
    StringBuilder text = new StringBuilder(app).append('|').append(kind).append('|').append(stateHead)
        .append('|').append(plan);
    for (LaneRange range : ranges) {
      text.append('|').append(range.lane()).append(',').append(range.previous()).append(',')
          .append(range.last()).append(',').append(range.records());
    }
    return sha256(text.toString()).substring(0, 24);
  }

  public String inputKey(String app, String exchange) {
    return key(app, exchange, "input");
  }

  public String planKey(String app, String exchange) {
    return key(app, exchange, "plan");
  }

  public String resultKey(String app, String exchange, ChildTask.Role role, int index) {
    return key(app, exchange, "result-" + role.name().toLowerCase(java.util.Locale.ROOT) + "-" + index);
  }

  private static String key(String app, String exchange, String leaf) {
    String spread = sha256(exchange + "/" + leaf).substring(0, 2);
    return app + "/shuffle/" + spread + "/" + exchange + "/" + leaf;
  }

  /** Writes every split's records as one object (one PUT) and returns where each split is in it. */
  public Input writeInput(String app, String exchange, List<List<SourceRecord>> splits) {
    ByteArrayOutputStream all = new ByteArrayOutputStream();
    long[] offsets = new long[splits.size()];
    long[] lengths = new long[splits.size()];
    for (int i = 0; i < splits.size(); i++) {
      byte[] block = RecordCodec.encode(splits.get(i));
      offsets[i] = all.size();
      lengths[i] = block.length;
      all.writeBytes(block);
    }
    String key = inputKey(app, exchange);
    byte[] bytes = all.toByteArray();
    put(key, () -> RequestBody.fromBytes(bytes));
    return new Input(key, offsets, lengths);
  }

  /** The records of {@code task}'s split: one ranged GET. */
  public List<SourceRecord> readInput(ChildTask task) {
    String range = "bytes=" + task.inputOffset() + "-" + (task.inputOffset() + task.inputLength() - 1);
    ResponseBytes<GetObjectResponse> bytes = s3.getObjectAsBytes(b -> b.bucket(bucket).key(task.inputKey())
        .range(range));
    return RecordCodec.decode(bytes.asByteArray());
  }

  /** Marks the exchange's input as complete, with the plan's description. */
  public void putPlan(String app, String exchange, String description) {
    put(planKey(app, exchange), () -> RequestBody.fromString(description));
  }

  /** True if an earlier attempt at this exchange wrote its input completely. */
  public boolean hasPlan(String app, String exchange) {
    return get(planKey(app, exchange)).isPresent();
  }

  public void putResult(String app, ChildResult result) {
    String json = result.toJson();
    put(resultKey(app, result.exchange(), result.role(), result.index()), () -> RequestBody.fromString(json));
  }

  /** A child's result written by an earlier attempt, if any. */
  public Optional<ChildResult> result(String app, String exchange, ChildTask.Role role, int index) {
    return get(resultKey(app, exchange, role, index)).map(ChildResult::fromJson);
  }

  /** The stored result at {@code key} (a child's response too large for an invoke payload points there). */
  public ChildResult resultAt(String key) {
    return get(key).map(ChildResult::fromJson)
        .orElseThrow(() -> new IllegalStateException("A child's result is missing at s3://" + bucket + "/" + key));
  }

  /**
   * One PUT, tried again on a client-side failure beyond the SDK's own retries (every exchange key is written whole
   * and idempotently: a repeat writes the same bytes).
   */
  private void put(String key, java.util.function.Supplier<RequestBody> body) {
    for (int attempt = 1; ; attempt++) {
      try {
        s3.putObject(b -> b.bucket(bucket).key(key), body.get());
        return;
      } catch (software.amazon.awssdk.core.exception.SdkClientException e) {
        if (attempt >= 3) {
          throw e;
        }
        java.util.concurrent.locks.LockSupport.parkNanos(100_000_000L * attempt);
      }
    }
  }

  private Optional<String> get(String key) {
    try {
      return Optional.of(s3.getObjectAsBytes(b -> b.bucket(bucket).key(key)).asString(StandardCharsets.UTF_8));
    } catch (NoSuchKeyException missing) {
      return Optional.empty();
    }
  }

  static String sha256(String text) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256")
          .digest(text.getBytes(StandardCharsets.UTF_8)));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  /** Splits {@code records} into {@code count} contiguous parts of nearly equal size, in order. */
  public static List<List<SourceRecord>> split(List<SourceRecord> records, int count) {
    List<List<SourceRecord>> out = new ArrayList<>(count);
    int size = records.size();
    for (int i = 0; i < count; i++) {
      out.add(records.subList((int) ((long) size * i / count), (int) ((long) size * (i + 1) / count)));
    }
    return out;
  }
}
