package io.spindrift.sink.hudi;

import io.spindrift.sink.CommitTag;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.Iterator;
import java.util.OptionalLong;
import org.apache.hudi.common.model.HoodieCommitMetadata;
import org.apache.hudi.common.table.HoodieTableMetaClient;
import org.apache.hudi.common.table.timeline.HoodieArchivedTimeline;
import org.apache.hudi.common.table.timeline.HoodieDefaultTimeline;
import org.apache.hudi.common.table.timeline.HoodieInstant;
import org.apache.hudi.common.table.timeline.HoodieTimeline;

/**
 * What a Hudi table holds of an app's commits: the {@link CommitTag#SEQ} of the newest completed Hudi commit
 * whose metadata carries the app's {@link CommitTag#APP}. An app's commits reach the table in seq order, so that
 * seq is the whole answer. The active timeline is read newest first; the archived one only when the active
 * timeline has no commit of the app (an app quiet while others wrote enough commits to archive its last one).
 */
final class CommitTimeline {
  private CommitTimeline() {}

  /** The app's newest published seq, or empty when the table holds none of its commits. */
  static OptionalLong latestSeq(HoodieTableMetaClient meta, String app) {
    return latestSeq(meta, meta.reloadActiveTimeline(), app);
  }

  /** {@link #latestSeq} on the active timeline {@code meta} last read, which the caller knows to be fresh enough. */
  static OptionalLong latestSeqAsRead(HoodieTableMetaClient meta, String app) {
    return latestSeq(meta, meta.getActiveTimeline(), app);
  }

  private static OptionalLong latestSeq(HoodieTableMetaClient meta, HoodieDefaultTimeline activeTimeline, String app) {
    OptionalLong active = latestSeq(activeTimeline, app);
    if (active.isPresent()) {
      return active;
    }
    HoodieArchivedTimeline archived = new HoodieArchivedTimeline(meta);
    archived.loadCompletedInstantDetailsInMemory();
    return latestSeq(archived, app);
  }

  private static OptionalLong latestSeq(HoodieDefaultTimeline timeline, String app) {
    HoodieTimeline commits = timeline.getCommitsTimeline().filterCompletedInstants();
    Iterator<HoodieInstant> newestFirst = commits.getReverseOrderedInstants().iterator();
    while (newestFirst.hasNext()) {
      HoodieCommitMetadata metadata = metadata(commits, newestFirst.next());
      if (metadata != null && app.equals(metadata.getMetadata(CommitTag.APP))) {
        return OptionalLong.of(Long.parseLong(metadata.getMetadata(CommitTag.SEQ)));
      }
    }
    return OptionalLong.empty();
  }

  /** A commit's metadata; null for an instant without details (an archived one from before details were kept). */
  private static HoodieCommitMetadata metadata(HoodieTimeline timeline, HoodieInstant instant) {
    var bytes = timeline.getInstantDetails(instant);
    if (!bytes.isPresent() || bytes.get().length == 0) {
      return null;
    }
    try {
      return HoodieCommitMetadata.fromBytes(bytes.get(), HoodieCommitMetadata.class);
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot read the metadata of Hudi commit " + instant, e);
    }
  }
}
