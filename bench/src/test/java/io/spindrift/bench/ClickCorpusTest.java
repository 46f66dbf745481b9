package io.spindrift.bench;

import static org.assertj.core.api.Assertions.assertThat;

import io.spindrift.examples.ClickstreamGenerator;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;

class ClickCorpusTest {
  private final ClickCorpus corpus = new ClickCorpus(50, 3);

  @Test
  void replaysPastTheEndWithEventTimeMovedForward() {
    List<ClickstreamGenerator.Event> batch = corpus.batch(0, 150);

    for (int i = 1; i < batch.size(); i++) {
      assertThat(PhysicalFloor.parse(batch.get(i).json()).ts())
          .isAfter(PhysicalFloor.parse(batch.get(i - 1).json()).ts());
    }
    assertThat(PhysicalFloor.parse(batch.get(120).json()).eventId())
        .isEqualTo(PhysicalFloor.parse(batch.get(20).json()).eventId());
  }

  @Test
  void theFirstLapIsTheGeneratedEventsUnchanged() {
    ClickstreamGenerator generator = new ClickstreamGenerator(3, 0.0, 1_700_000_000_000L);
    generator.next();

    assertThat(corpus.batch(1, 1).get(0).json()).isEqualTo(generator.next().json());
    Instant first = PhysicalFloor.parse(corpus.batch(0, 1).get(0).json()).ts();
    assertThat(first).isEqualTo(Instant.ofEpochMilli(1_700_000_000_000L));
  }
}
