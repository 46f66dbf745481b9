package io.spindrift.sink.iceberg;

import static org.assertj.core.api.Assertions.assertThat;

import io.spindrift.sink.CommitTag;
import java.lang.reflect.Proxy;
import java.util.List;
import java.util.Map;
import org.apache.iceberg.Snapshot;
import org.junit.jupiter.api.Test;

/** How a table's snapshot ancestry answers "is commit N of this app published?" with group commits. */
class PublishedRangesTest {
  private static Snapshot snapshot(Map<String, String> summary) {
    return (Snapshot) Proxy.newProxyInstance(Snapshot.class.getClassLoader(), new Class<?>[] {Snapshot.class},
        (proxy, method, args) -> method.getName().equals("summary") ? summary : null);
  }

  private static Snapshot spindrift(String app, long first, long last) {
    return snapshot(Map.of(CommitTag.APP, app, CommitTag.FIRST_SEQ, Long.toString(first),
        CommitTag.SEQ, Long.toString(last)));
  }

  // newest first, as SnapshotUtil.currentAncestors walks
  private final List<Snapshot> ancestry = List.of(
      spindrift("a", 6, 8),
      snapshot(Map.of("operation", "append")),
      spindrift("b", 1, 40),
      spindrift("a", 5, 5),
      spindrift("a", 1, 3));

  @Test
  void seqsInsideAGroupCommitArePublished() {
    assertThat(IcebergSink.contains(ancestry, "a", 7)).isTrue();
    assertThat(IcebergSink.contains(ancestry, "a", 6)).isTrue();
    assertThat(IcebergSink.contains(ancestry, "a", 5)).isTrue();
    assertThat(IcebergSink.contains(ancestry, "a", 2)).isTrue();
  }

  @Test
  void seqsBeyondTheNewestOrInAGapAreNot() {
    assertThat(IcebergSink.contains(ancestry, "a", 9)).isFalse();
    assertThat(IcebergSink.contains(ancestry, "a", 4)).isFalse();
    assertThat(IcebergSink.contains(ancestry, "c", 1)).isFalse();
  }

  @Test
  void lastPublishedIsTheNewestSnapshotOfTheApp() {
    assertThat(IcebergSink.lastPublished(ancestry, "a")).isEqualTo(8);
    assertThat(IcebergSink.lastPublished(ancestry, "b")).isEqualTo(40);
    assertThat(IcebergSink.lastPublished(ancestry, "c")).isZero();
  }
}
