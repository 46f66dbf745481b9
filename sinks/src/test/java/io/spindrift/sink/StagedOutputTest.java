package io.spindrift.sink;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

/** How fan-out's per-child stages become the one stage the parent commits. */
class StagedOutputTest {
  private static final StagedOutput A = new StagedOutput("s3://bucket/app/stage/a.parquet", 3);
  private static final StagedOutput B = new StagedOutput("{\"actions\":[{\"add\":{\"path\":\"b\"}}]}", 4);
  private static final StagedOutput C = new StagedOutput("{\"upsert\":\"s3a://bucket/app/stage/c.parquet\"}", 5);

  @Test
  void emptyPartsAreSkipped() {
    StagedOutput combined = StagedOutput.combine(List.of(StagedOutput.EMPTY, A, StagedOutput.EMPTY, B));

    assertThat(StagedOutput.isComposite(combined.ref())).isTrue();
    assertThat(StagedOutput.parts(combined.ref())).containsExactly(A.ref(), B.ref());
    assertThat(combined.rows()).isEqualTo(7);
  }

  @Test
  void allEmptyPartsAreTheEmptyStage() {
    assertThat(StagedOutput.combine(List.of(StagedOutput.EMPTY, StagedOutput.EMPTY))).isEqualTo(StagedOutput.EMPTY);
    assertThat(StagedOutput.combine(List.of())).isEqualTo(StagedOutput.EMPTY);
    assertThat(StagedOutput.parts(null)).isEmpty();
  }

  @Test
  void aSinglePartIsReturnedAsItIs() {
    assertThat(StagedOutput.combine(List.of(StagedOutput.EMPTY, B))).isSameAs(B);
    assertThat(StagedOutput.isComposite(B.ref())).isFalse();
    assertThat(StagedOutput.parts(B.ref())).containsExactly(B.ref());
  }

  @Test
  void aNestedCompositeIsFlattenedInOrder() {
    StagedOutput inner = StagedOutput.combine(List.of(A, B));
    StagedOutput outer = StagedOutput.combine(List.of(inner, C));

    assertThat(StagedOutput.parts(outer.ref())).containsExactly(A.ref(), B.ref(), C.ref());
    assertThat(outer.ref()).doesNotContain("\\\"parts\\\"");
    assertThat(outer.rows()).isEqualTo(12);
  }

  @Test
  void partsThatAreJsonDocumentsSurviveTheRoundTrip() {
    StagedOutput combined = StagedOutput.combine(List.of(B, C));

    assertThat(StagedOutput.parts(combined.ref())).containsExactly(B.ref(), C.ref());
    assertThat(StagedOutput.isComposite(C.ref())).isFalse();
  }
}
