package io.spindrift.commit;

import java.util.Map;
import java.util.Optional;

/**
 * What an invocation reads before it runs: the app's head sequence, how far publication has got, the
 * committed position of each lane it is about to process (absent for a lane that never committed), for
 * stateful jobs the query checkpoint the head commit left (null if none), and for bucket commits the version
 * each state bucket is at as of the head (every commit that moved a bucket to it is at or below the head; a
 * bucket absent here is at 0 as of the head), and whether a bucket commit has been sequenced on the head ({@code
 * bucketCommits}: the app commits its stateful batches on buckets; a head written only by head commits says no).
 */
public record LogSnapshot(long headSeq, long publishedSeq, Map<String, String> lanePositions, String checkpoint,
    Map<Integer, Long> bucketVersions, boolean bucketCommits) {
  public LogSnapshot {
    lanePositions = Map.copyOf(lanePositions);
    bucketVersions = Map.copyOf(bucketVersions);
  }

  /** A snapshot of a log whose head no bucket commit has reached. */
  public LogSnapshot(long headSeq, long publishedSeq, Map<String, String> lanePositions, String checkpoint) {
    this(headSeq, publishedSeq, lanePositions, checkpoint, Map.of(), false);
  }

  /**
   * Whether a stateful batch of this app commits on buckets when the mode is chosen per app
   * (SPINDRIFT_STATEFUL_COMMIT_MODE=auto): a new app (nothing committed yet) or one whose head a bucket commit
   * reached does; an app whose head only head commits wrote keeps committing on the head, so that containers of an
   * older release still committing on the head never run beside bucket commits.
   */
  public boolean commitsOnBuckets() {
    return headSeq == 0 || bucketCommits;
  }

  public Optional<String> position(String lane) {
    return Optional.ofNullable(lanePositions.get(lane));
  }

  /** True when some committed batch has not been published yet and must be rolled forward. */
  public boolean hasUnpublished() {
    return publishedSeq < headSeq;
  }
}
