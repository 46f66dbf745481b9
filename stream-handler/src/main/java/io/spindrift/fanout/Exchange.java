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
import java.util.Arrays;
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
 * (each child's manifest); a batch run over S3 objects writes no {@code input}: its maps read their splits from the
 * input objects ({@link S3Split}). A stateful exchange adds {@code map-<i>}: partition map {@code i}'s records routed by
 * state partition, one block per reducer (the partitions it owns, contiguous) so that a reducer reads its share of
 * every map object with one ranged GET; the block index travels in the map's manifest, not in S3. A two-level
 * exchange adds {@code combine-<g>}: combiner g's concatenation, per reducer, of its group's map blocks (the same
 * layout, so a reducer reads one range of each combiner instead of one of each map). Expired by the
 * bucket's lifecycle rule for {@code <app>/shuffle/} (CDK): a commit never references them.
 */
public final class Exchange {
  /** Ranged GETs one reducer runs at once. */
  private static final int READ_THREADS = 16;
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

  public String mapKey(String app, String exchange, int index) {
    return key(app, exchange, "map-" + index);
  }

  public String combineKey(String app, String exchange, int index) {
    return key(app, exchange, "combine-" + index);
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

  /**
   * The records of {@code task}'s split: one ranged GET of the input object, or, for a batch run's task that
   * carries its input splits, one ranged GET of each from the input objects (its records after the task's
   * position).
   */
  public List<SourceRecord> readInput(ChildTask task) {
    if (!task.splits().isEmpty()) {
      return S3Split.read(s3, task.splits(), task.kind(), task.after());
    }
    String range = "bytes=" + task.inputOffset() + "-" + (task.inputOffset() + task.inputLength() - 1);
    ResponseBytes<GetObjectResponse> bytes = s3.getObjectAsBytes(b -> b.bucket(bucket).key(task.inputKey())
        .range(range));
    return RecordCodec.decode(bytes.asByteArray());
  }

  /**
   * The records of a batch run's input {@code splits} after position {@code after} (null: all), read by the parent
   * itself (a manifest that does not fan out): one ranged GET each.
   */
  public List<SourceRecord> readSplits(List<S3Split> splits, SourceKind kind, String after) {
    return S3Split.read(s3, splits, kind, after);
  }

  /**
   * A byte range of a partition map's object that a reducer reads: its block (records routed to its partitions) or
   * the map's block for every reducer ({@code all}: a map that could not route its records).
   */
  public record Range(String key, long offset, long length, boolean all) {}

  /**
   * A record a reducer received, and whether it is the record's primary reducer (the one that reports it as late).
   * Records of an {@code all} block are the primary records of the reducer owning partition 0.
   */
  public record Routed(SourceRecord record, boolean primary) {}

  /**
   * Writes partition map {@code index}'s blocks as one object (one PUT): {@code blocks.get(r)} for reducer r, then
   * {@code all} (for every reducer). Each block keeps its records in batch order with a primary flag per record.
   * Returns the index, [all offset, all length, then per reducer offset, length].
   */
  public List<Long> writeRouted(String app, String exchange, int index, List<List<Routed>> blocks,
      List<Routed> all) {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    List<Long> perReducer = new ArrayList<>();
    for (List<Routed> block : blocks) {
      perReducer.add((long) bytes.size());
      perReducer.add((long) writeBlock(bytes, block));
    }
    long allOffset = bytes.size();
    long allLength = writeBlock(bytes, all);
    List<Long> out = new ArrayList<>(List.of(allOffset, allLength));
    out.addAll(perReducer);
    byte[] body = bytes.toByteArray();
    put(mapKey(app, exchange, index), () -> RequestBody.fromBytes(body));
    return out;
  }

  /** The ranges reducer {@code reducer} reads from a map object with index {@code mapIndex}: at most two. */
  public static List<Range> ranges(String key, List<Long> mapIndex, int reducer) {
    List<Range> out = new ArrayList<>(2);
    long offset = mapIndex.get(2 + 2 * reducer);
    long length = mapIndex.get(3 + 2 * reducer);
    if (length > 0) {
      out.add(new Range(key, offset, length, false));
    }
    if (mapIndex.get(1) > 0) {
      out.add(new Range(key, mapIndex.get(0), mapIndex.get(1), true));
    }
    return out;
  }

  /** The whole of a map object with index {@code mapIndex} as one range (empty when it holds no records). */
  public static List<Range> whole(String key, List<Long> mapIndex) {
    long end = 0;
    for (int i = 0; i < mapIndex.size(); i += 2) {
      end = Math.max(end, mapIndex.get(i) + mapIndex.get(i + 1));
    }
    return end == 0 ? List.of() : List.of(new Range(key, 0, end, false));
  }

  /**
   * Combiner {@code index} of a two-level exchange: GETs its group's map objects ({@code objects}, whole, with their
   * block indexes {@code indexes}, in map order) and writes one object (one PUT) holding, per reducer, the group's
   * blocks for it in map order, then the group's blocks for every reducer. Blocks are copied as bytes: nothing is
   * decoded. Returns the new object's index, laid out as {@link #writeRouted}'s.
   */
  public List<Long> combine(String app, String exchange, int index, List<Range> objects, List<List<Long>> indexes,
      int reducers) {
    List<byte[]> bodies = new ArrayList<>();
    for (int m = 0; m < indexes.size(); m++) {
      bodies.add(null);
    }
    int at = 0;
    for (int m = 0; m < indexes.size(); m++) {
      if (!whole("", indexes.get(m)).isEmpty()) {
        Range range = objects.get(at++);
        String header = "bytes=" + range.offset() + "-" + (range.offset() + range.length() - 1);
        bodies.set(m, s3.getObjectAsBytes(b -> b.bucket(bucket).key(range.key()).range(header)).asByteArray());
      }
    }
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    List<Long> perReducer = new ArrayList<>();
    for (int r = 0; r < reducers; r++) {
      long start = out.size();
      for (int m = 0; m < indexes.size(); m++) {
        copy(out, bodies.get(m), indexes.get(m).get(2 + 2 * r), indexes.get(m).get(3 + 2 * r));
      }
      perReducer.add(start);
      perReducer.add(out.size() - start);
    }
    long allStart = out.size();
    for (int m = 0; m < indexes.size(); m++) {
      copy(out, bodies.get(m), indexes.get(m).get(0), indexes.get(m).get(1));
    }
    List<Long> combined = new ArrayList<>(List.of(allStart, out.size() - allStart));
    combined.addAll(perReducer);
    byte[] body = out.toByteArray();
    put(combineKey(app, exchange, index), () -> RequestBody.fromBytes(body));
    return combined;
  }

  private static void copy(ByteArrayOutputStream out, byte[] body, long offset, long length) {
    if (length > 0) {
      out.write(body, (int) offset, (int) length);
    }
  }

  /**
   * The records in {@code ranges}, in order: one ranged GET each, run in parallel. Blocks of one map come in the
   * map's order, so a reducer sees its records in batch order. {@code ownsFirst}: whether the reader owns partition
   * 0 (then the records of {@code all} blocks are its primary records).
   */
  public List<Routed> readRouted(List<Range> ranges, boolean ownsFirst) {
    if (ranges.isEmpty()) {
      return List.of();
    }
    java.util.concurrent.ExecutorService pool = java.util.concurrent.Executors.newFixedThreadPool(
        Math.min(READ_THREADS, ranges.size()), runnable -> {
          Thread thread = new Thread(runnable, "spindrift-exchange-read");
          thread.setDaemon(true);
          return thread;
        });
    try {
      List<java.util.concurrent.Future<List<Routed>>> reads = new ArrayList<>();
      for (Range range : ranges) {
        reads.add(pool.submit(() -> readBlock(range, ownsFirst)));
      }
      List<Routed> out = new ArrayList<>();
      for (java.util.concurrent.Future<List<Routed>> read : reads) {
        out.addAll(read.get());
      }
      return out;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("Interrupted while reading the exchange", e);
    } catch (java.util.concurrent.ExecutionException e) {
      throw e.getCause() instanceof RuntimeException runtime ? runtime : new IllegalStateException(e.getCause());
    } finally {
      pool.shutdownNow();
    }
  }

  private List<Routed> readBlock(Range range, boolean ownsFirst) {
    String header = "bytes=" + range.offset() + "-" + (range.offset() + range.length() - 1);
    byte[] bytes = s3.getObjectAsBytes(b -> b.bucket(bucket).key(range.key()).range(header)).asByteArray();
    java.nio.ByteBuffer buffer = java.nio.ByteBuffer.wrap(bytes);
    List<Routed> out = new ArrayList<>();
    int at = 0;
    while (at < bytes.length) { // one block, or a combiner's blocks back to back
      int codecLength = buffer.getInt(at);
      List<SourceRecord> records = RecordCodec.decode(Arrays.copyOfRange(bytes, at + 4, at + 4 + codecLength));
      int flags = at + 4 + codecLength;
      for (int i = 0; i < records.size(); i++) {
        boolean primary = range.all() ? ownsFirst : (bytes[flags + i / 8] & (1 << (i % 8))) != 0;
        out.add(new Routed(records.get(i), primary));
      }
      at = flags + (records.size() + 7) / 8;
    }
    return out;
  }

  /** One block: the records' codec length, their codec bytes, a primary bit per record. Returns its length. */
  private static int writeBlock(ByteArrayOutputStream out, List<Routed> block) {
    if (block.isEmpty()) {
      return 0;
    }
    byte[] records = RecordCodec.encode(block.stream().map(Routed::record).toList());
    byte[] flags = new byte[(block.size() + 7) / 8];
    for (int i = 0; i < block.size(); i++) {
      if (block.get(i).primary()) {
        flags[i / 8] |= (byte) (1 << (i % 8));
      }
    }
    out.writeBytes(java.nio.ByteBuffer.allocate(4).putInt(records.length).array());
    out.writeBytes(records);
    out.writeBytes(flags);
    return 4 + records.length + flags.length;
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
