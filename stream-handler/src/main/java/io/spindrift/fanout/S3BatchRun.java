package io.spindrift.fanout;

import io.spindrift.event.Batch;
import io.spindrift.event.SourceKind;
import io.spindrift.protocol.BatchOutcome;
import io.spindrift.runtime.SpindriftRuntime;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import software.amazon.awssdk.services.s3.S3Client;

/**
 * A batch run of the app's job over S3 objects ({@code spindrift batch --input s3://<bucket>/<prefix>}): the input
 * is a manifest of splits ({@link S3InputSplits}) instead of an event, run as one batch through the runtime's
 * protocol and committed once, with one lane {@code s3:<bucket>/<prefix>} whose range covers every split. A batch
 * over the fan-out thresholds goes to child executors as any batch does (SPINDRIFT_FANOUT); a rerun over the same
 * input finds every record at or below the lane's position and changes nothing (I2). A failure leaves nothing
 * committed: run it again. Run it with {@code SPINDRIFT_ARCHIVE} off (the CLI does): the input is its own archive.
 */
public final class S3BatchRun {
  private static final Logger LOG = LoggerFactory.getLogger("io.spindrift.fanout");

  private S3BatchRun() {}

  /** What a run did: the input's lane, objects and splits, and the protocol's outcome (seq 0: nothing new). */
  public record Outcome(String lane, int objects, int splits, BatchOutcome batch) {}

  /**
   * Runs {@code runtime}'s job over {@code uri}, its records seen as {@code kind}'s input, in splits of at most
   * {@code splitBytes}.
   *
   * @throws IllegalArgumentException for an input that cannot be listed as splits (see {@link S3InputSplits#plan})
   * @throws io.spindrift.protocol.BatchFailedException if the batch failed; nothing was committed
   */
  public static Outcome run(SpindriftRuntime runtime, S3Client s3, String uri, SourceKind kind, long splitBytes) {
    S3InputSplits input = S3InputSplits.plan(s3, uri, splitBytes);
    LOG.info("{{\"app\":\"{}\",\"batchRun\":\"{}\",\"lane\":\"{}\",\"objects\":{},\"splits\":{}}}",
        runtime.config().app(), uri, input.lane(), input.objects(), input.splits().size());
    Batch batch = input.batch(s3, kind);
    BatchOutcome outcome = runtime.process(batch);
    return new Outcome(input.lane(), input.objects(), input.splits().size(), outcome);
  }
}
