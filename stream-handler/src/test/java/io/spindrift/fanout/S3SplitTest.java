package io.spindrift.fanout;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.spindrift.commit.LaneRange;
import io.spindrift.event.Batch;
import io.spindrift.event.S3LineRecord;
import io.spindrift.event.SourceKind;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class S3SplitTest {
  private static S3Split split(int object, long start, long end) {
    return new S3Split("bucket", "in/", "in/part-" + object, object, start, end, 1_000L);
  }

  @Test
  void aSplitStandsAtTheLastPositionARecordOfItMayHave() {
    S3Split split = split(2, 100, 200);
    S3LineRecord lastRecord = new S3LineRecord(SourceKind.KINESIS, "bucket", "in/", "in/part-2", 2, 199, 1_000L,
        new byte[] {'x'});
    S3LineRecord nextSplits = new S3LineRecord(SourceKind.KINESIS, "bucket", "in/", "in/part-2", 2, 200, 1_000L,
        new byte[] {'x'});

    assertThat(split.lane()).isEqualTo(lastRecord.lane());
    assertThat(split.position()).isEqualTo(lastRecord.position());
    assertThat(LaneRange.compare(nextSplits.position(), split.position())).isPositive();
    assertThat(split.size()).isEqualTo(100);
    assertThatThrownBy(split::toRow).isInstanceOf(IllegalStateException.class).hasMessageContaining("in/part-2");
  }

  @Test
  void committedSplitsAreDroppedFromAManifestWhole() {
    Batch manifest = S3InputSplits.manifest(List.of(split(0, 0, 10), split(0, 10, 20), split(1, 0, 10)),
        SourceKind.KAFKA);

    Batch fresh = manifest.after(Map.of(split(0, 0, 10).lane(), split(0, 10, 20).position()));

    assertThat(fresh.records()).containsExactly(split(1, 0, 10));
  }

  @Test
  void chunksAreWholeSplitsInOrderOfAtMostTheLimit() {
    List<S3Split> splits = List.of(split(0, 0, 10), split(0, 10, 20), split(0, 20, 25), split(1, 0, 30),
        split(2, 0, 5));

    assertThat(S3InputSplits.chunks(splits, 20)).containsExactly(List.of(split(0, 0, 10), split(0, 10, 20)),
        List.of(split(0, 20, 25)), List.of(split(1, 0, 30)), List.of(split(2, 0, 5)));
    assertThat(S3InputSplits.chunks(splits, 1L << 30)).containsExactly(splits);
    assertThatThrownBy(() -> S3InputSplits.chunks(splits, 0)).isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void aTaskCarriesItsSplitsAndPositionThroughJson() {
    ChildTask task = new ChildTask("app", SourceKind.KINESIS, "x1", ChildTask.Role.MAP, 0, "x1-0-ab", null, 0, 0,
        List.of(), 4, 7, null, 0, List.of(), null, null, null, List.of(split(0, 0, 10), split(1, 5, 9)), "42");

    ChildTask back = ChildTask.fromJson(task.toJson());

    assertThat(back).isEqualTo(task);
    assertThat(back.splits()).containsExactly(split(0, 0, 10), split(1, 5, 9));
    assertThat(back.after()).isEqualTo("42");
    assertThat(ChildTask.fromJson(new ChildTask("app", SourceKind.KINESIS, "x1", ChildTask.Role.REDUCE, 0, null,
        null, 0, 0, List.of(), 4, 7, null, 1, List.of(), null, null).toJson()).splits()).isEmpty();
  }
}
