package io.spindrift.fanout;

import io.spindrift.event.Batch;
import io.spindrift.event.SourceKind;
import io.spindrift.protocol.BatchOutcome;
import io.spindrift.runtime.SpindriftRuntime;
import java.util.ArrayList;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import software.amazon.awssdk.services.s3.S3Client;

/**
 * A batch run of the app's job over S3 objects ({@code spindrift batch --input s3://<bucket>/<prefix>}): the input
 * is a manifest of splits ({@link S3InputSplits}) instead of an event, cut into chunks of whole splits of at most
 * {@code maxBytesPerCommit}, each run as one batch through the runtime's protocol and committed once, in order, on
 * one lane {@code s3:<bucket>/<prefix>}; a chunk covers a contiguous range of the lane's positions.
 *
 * <p>With fan-out on (SPINDRIFT_FANOUT) a chunk goes to the protocol as its splits ({@link S3Split}, one item per
 * split): over the fan-out thresholds each map child reads its own splits from the input objects and the parent
 * reads none of them; below them the parent reads the chunk itself. With fan-out off the parent reads each chunk.
 * Either way the parent holds one chunk at most.
 *
 * <p>A rerun over the same input finds the committed chunks at or below the lane's position and changes nothing
 * for them (I2): a run that failed after some commits resumes after the last one. A failure leaves the chunks
 * before it committed and nothing of its own: run it again. Run it with {@code SPINDRIFT_ARCHIVE} off (the CLI
 * does): the input is its own archive.
 */
public final class S3BatchRun {
  private static final Logger LOG = LoggerFactory.getLogger("io.spindrift.fanout");

  /** Bytes one commit covers at most by default: 1 GiB. */
  public static final long DEFAULT_BYTES_PER_COMMIT = 1L << 30;

  private S3BatchRun() {}

  /**
   * What a run did: the input's lane, objects and splits, and the protocol's outcome for each chunk, in order (seq
   * 0: nothing new in it). A committed chunk's {@code records} are the records it ran; its {@code duplicates} count
   * records when the parent read the chunk with fan-out off, and are not counted (0) for a manifest (fan-out on:
   * {@link SplitRecordCounts}). A chunk committed before counts its splits as duplicates when fan-out is on (nothing
   * reads them).
   */
  public record Outcome(String lane, int objects, int splits, List<BatchOutcome> commits) {
    public Outcome {
      commits = List.copyOf(commits);
    }

    /** The last commit this run made, 0 when every chunk was committed before. */
    public long seq() {
      return commits.stream().mapToLong(BatchOutcome::seq).filter(seq -> seq > 0).max().orElse(0);
    }

    /** Chunks this run committed (the rest were committed before). */
    public int committed() {
      return (int) commits.stream().filter(batch -> batch.seq() > 0).count();
    }

    /** Rows this run's commits staged for the table. */
    public long outputRows() {
      return commits.stream().mapToLong(BatchOutcome::outputRows).sum();
    }

    /** Rows this run's commits staged for the rejects table. */
    public long rejected() {
      return commits.stream().mapToLong(BatchOutcome::rejected).sum();
    }

    /** Records this run's commits covered (a chunk committed before: its items, records or splits). */
    public long records() {
      return commits.stream().mapToLong(BatchOutcome::records).sum();
    }

    /** Items of the chunks at or below the lane's position before this run (records, or splits with fan-out on). */
    public long duplicates() {
      return commits.stream().mapToLong(BatchOutcome::duplicates).sum();
    }
  }

  /** As {@link #run(SpindriftRuntime, S3Client, String, SourceKind, long, long)}, at most 1 GiB per commit. */
  public static Outcome run(SpindriftRuntime runtime, S3Client s3, String uri, SourceKind kind, long splitBytes) {
    return run(runtime, s3, uri, kind, splitBytes, DEFAULT_BYTES_PER_COMMIT);
  }

  /**
   * Runs {@code runtime}'s job over {@code uri}, its records seen as {@code kind}'s input, in splits of at most
   * {@code splitBytes} and commits of at most {@code maxBytesPerCommit} (at least one split each).
   *
   * @throws IllegalArgumentException for an input that cannot be listed as splits (see {@link S3InputSplits#plan})
   *     or a commit size below 1
   * @throws io.spindrift.protocol.BatchFailedException if a chunk failed; the chunks before it stay committed
   */
  public static Outcome run(SpindriftRuntime runtime, S3Client s3, String uri, SourceKind kind, long splitBytes,
      long maxBytesPerCommit) {
    S3InputSplits input = S3InputSplits.plan(s3, uri, splitBytes);
    List<List<S3Split>> chunks = S3InputSplits.chunks(input.splits(), maxBytesPerCommit);
    boolean childrenRead = new FanOutPlanner(runtime.config()).enabled();
    LOG.info("{{\"app\":\"{}\",\"batchRun\":\"{}\",\"lane\":\"{}\",\"objects\":{},\"splits\":{},\"commits\":{},"
            + "\"childrenRead\":{}}}", runtime.config().app(), uri, input.lane(), input.objects(),
        input.splits().size(), chunks.size(), childrenRead);
    List<BatchOutcome> outcomes = new ArrayList<>();
    for (List<S3Split> chunk : chunks) {
      Batch batch = childrenRead ? S3InputSplits.manifest(chunk, kind) : S3InputSplits.records(s3, chunk, kind);
      outcomes.add(runtime.process(batch));
    }
    return new Outcome(input.lane(), input.objects(), input.splits().size(), outcomes);
  }
}
