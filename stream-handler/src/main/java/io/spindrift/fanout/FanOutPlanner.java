package io.spindrift.fanout;

import io.spindrift.config.ConfigException;
import io.spindrift.config.Setting;
import io.spindrift.config.SpindriftConfig;
import io.spindrift.event.Batch;
import java.util.Locale;
import java.util.Optional;

/**
 * Decides whether a batch fans out (DESIGN §8), from settings only: {@code SPINDRIFT_FANOUT=auto} fans out a batch
 * with more records or bytes than the limits, or whose estimated time exceeds half the invocation's remaining time
 * (never give one invocation work it cannot finish); {@code always} fans out every batch of two records or more
 * (tests, demos); {@code off} never. Below the thresholds nothing changes.
 */
public final class FanOutPlanner {
  enum Mode { OFF, AUTO, ALWAYS }

  private final Mode mode;
  private final long maxRecords;
  private final long maxBytes;
  private final double msPerRecord;
  private final int recordsPerChild;
  private final int maxChildren;
  private final int partitions;
  private final int twoLevelChildren;
  private final int treeChildren;

  public FanOutPlanner(SpindriftConfig config) {
    String mode = config.get(Setting.FANOUT).trim().toUpperCase(Locale.ROOT);
    try {
      this.mode = Mode.valueOf(mode);
    } catch (IllegalArgumentException e) {
      throw new ConfigException(Setting.FANOUT, config.get(Setting.FANOUT), "one of off, auto, always");
    }
    this.maxRecords = positive(config, Setting.FANOUT_MAX_RECORDS);
    this.maxBytes = positive(config, Setting.FANOUT_MAX_BYTES);
    this.msPerRecord = config.getDouble(Setting.FANOUT_MS_PER_RECORD);
    this.recordsPerChild = positive(config, Setting.FANOUT_RECORDS_PER_CHILD);
    this.maxChildren = positive(config, Setting.FANOUT_MAX_CHILDREN);
    this.partitions = positive(config, Setting.SHUFFLE_PARTITIONS);
    this.twoLevelChildren = positive(config, Setting.FANOUT_TWO_LEVEL_CHILDREN);
    this.treeChildren = positive(config, Setting.FANOUT_TREE_CHILDREN);
  }

  private static int positive(SpindriftConfig config, Setting setting) {
    int value = config.getInt(setting);
    if (value < 1) {
      throw new ConfigException(setting, config.get(setting), "a whole number of at least 1");
    }
    return value;
  }

  /** Children one invoke starts at most: a stage with more starts them through a tree of launchers. */
  public int treeChildren() {
    return treeChildren;
  }

  public boolean enabled() {
    return mode != Mode.OFF;
  }

  /**
   * Why {@code batch} should fan out, or empty when it should not. {@code remainingMs} is the invocation's
   * remaining time (Long.MAX_VALUE when unknown).
   */
  public Optional<String> reason(Batch batch, long remainingMs) {
    if (mode == Mode.OFF || batch.size() < 2) {
      return Optional.empty();
    }
    if (mode == Mode.ALWAYS) {
      return Optional.of("SPINDRIFT_FANOUT=always");
    }
    if (batch.size() > maxRecords) {
      return Optional.of(batch.size() + " records > SPINDRIFT_FANOUT_MAX_RECORDS=" + maxRecords);
    }
    long bytes = batch.bytes();
    if (bytes > maxBytes) {
      return Optional.of(bytes + " bytes > SPINDRIFT_FANOUT_MAX_BYTES=" + maxBytes);
    }
    long estimateMs = (long) Math.ceil(batch.size() * msPerRecord);
    if (remainingMs != Long.MAX_VALUE && estimateMs > remainingMs / 2) {
      return Optional.of("estimated " + estimateMs + " ms > half the remaining " + remainingMs + " ms");
    }
    return Optional.empty();
  }

  /**
   * What one invocation may take when its batch cannot fan out (fan-out off, or a stateful job whose plan a reduce
   * child cannot own, {@code unsplittable}): the limits above which {@code auto} would fan out, and the records
   * whose estimated time fits half of {@code remainingMs} (Long.MAX_VALUE: unknown). Unbounded when the batch can
   * fan out: the planner then splits whatever is too big.
   */
  public ReadAhead.Room singleInvocation(boolean stateful, String unsplittable, long remainingMs) {
    if (mode != Mode.OFF && !(stateful && unsplittable != null)) {
      return ReadAhead.Room.UNBOUNDED;
    }
    long records = maxRecords;
    if (remainingMs != Long.MAX_VALUE && msPerRecord > 0) {
      records = Math.min(records, (long) Math.floor(remainingMs / 2.0 / msPerRecord));
    }
    String why = mode == Mode.OFF ? "SPINDRIFT_FANOUT=off" : "the job cannot fan out: " + unsplittable;
    return new ReadAhead.Room(records, maxBytes, why + "; one invocation takes at most " + records
        + " records (SPINDRIFT_FANOUT_MAX_RECORDS, SPINDRIFT_FANOUT_MS_PER_RECORD against the remaining time) and "
        + maxBytes + " bytes (SPINDRIFT_FANOUT_MAX_BYTES)");
  }

  /**
   * Why a batch run's manifest of input splits ({@link S3Split}, one item per split) should fan out, or empty when
   * its parent should read and run them itself: {@code always} fans out any (one split is one map child, and the
   * parent reads no input), {@code auto} splits with more bytes than {@code SPINDRIFT_FANOUT_MAX_BYTES}.
   */
  public Optional<String> splitsReason(Batch splits) {
    if (mode == Mode.OFF || splits.isEmpty()) {
      return Optional.empty();
    }
    if (mode == Mode.ALWAYS) {
      return Optional.of("SPINDRIFT_FANOUT=always");
    }
    long bytes = splits.bytes();
    return bytes > maxBytes ? Optional.of(bytes + " input bytes > SPINDRIFT_FANOUT_MAX_BYTES=" + maxBytes)
        : Optional.empty();
  }

  /**
   * The plan for a batch run's manifest of {@code splits} input splits: one map (or partition map) per input split,
   * at most {@code SPINDRIFT_FANOUT_MAX_CHILDREN}, each reading its contiguous share of the splits.
   */
  public FanOutPlan planSplits(int splits, boolean stateful, String reason) {
    int wanted = Math.min(maxChildren, splits);
    if (stateful) {
      FanOutPlan plan = new FanOutPlan(true, wanted, Math.max(1, Math.min(wanted, partitions)), partitions, reason);
      return plan.splits() + plan.reducers() >= twoLevelChildren ? plan.twoLevel() : plan;
    }
    return new FanOutPlan(false, wanted, 0, partitions, reason);
  }

  /** The plan for a batch that fans out for {@code reason}. */
  public FanOutPlan plan(Batch batch, boolean stateful, String reason) {
    int wanted = (int) Math.min(maxChildren, Math.max(2, (batch.size() + recordsPerChild - 1L) / recordsPerChild));
    wanted = Math.min(wanted, batch.size());
    if (stateful) {
      FanOutPlan plan = new FanOutPlan(true, wanted, Math.max(1, Math.min(wanted, partitions)), partitions, reason);
      return plan.splits() + plan.reducers() >= twoLevelChildren ? plan.twoLevel() : plan;
    }
    return new FanOutPlan(false, wanted, 0, partitions, reason);
  }
}
