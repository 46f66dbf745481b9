package io.spindrift.local.mapping;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.List;
import org.junit.jupiter.api.Test;

class PartialResponseTest {
  private static PolledRecord record(String lane, String position) {
    return new PolledRecord(lane, position, 0, 1, new ObjectMapper().createObjectNode());
  }

  @Test
  void retriesEverythingFromTheLowestFailedPositionOfEachLane() {
    List<PolledRecord> batch = List.of(record("a", "1"), record("a", "2"), record("b", "1"), record("a", "3"),
        record("b", "2"));

    List<PolledRecord> retry = LocalEventSourceMapping.fromLowestFailure(batch,
        List.of(new String[] {"a", "3"}, new String[] {"a", "2"}));

    assertThat(retry).extracting(PolledRecord::lane, PolledRecord::position)
        .containsExactly(org.assertj.core.groups.Tuple.tuple("a", "2"), org.assertj.core.groups.Tuple.tuple("a", "3"));
  }

  @Test
  void noFailuresMeansNothingToRetry() {
    assertThat(LocalEventSourceMapping.fromLowestFailure(List.of(record("a", "1")), List.of())).isEmpty();
  }
}
