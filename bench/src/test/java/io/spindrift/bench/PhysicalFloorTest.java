package io.spindrift.bench;

import static org.assertj.core.api.Assertions.assertThat;

import io.spindrift.examples.ClickstreamGenerator;
import java.nio.charset.StandardCharsets;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class PhysicalFloorTest {
  private static byte[] json(String text) {
    return text.getBytes(StandardCharsets.UTF_8);
  }

  @Test
  void parsesTheJobsFieldsLikeTheJob() {
    PhysicalFloor.Click click = PhysicalFloor.parse(json("{\"event_id\":\"e1\",\"user_id\":\"u1\",\"action\":\"VIEW\","
        + "\"page\":\"/cart\",\"amount\":12.5,\"ts\":\"2024-02-29T23:59:59.500Z\",\"extra\":{\"x\":1}}"));

    assertThat(click).isNotNull();
    assertThat(click.action()).isEqualTo("view");
    assertThat(click.page()).isEqualTo("/cart");
    assertThat(click.amount()).isEqualTo(12.5);
    assertThat(click.eventDate()).isEqualTo(LocalDate.of(2024, 2, 29));
    assertThat(click.referrer()).isNull();
  }

  @Test
  void rejectsWhatTheJobRejects() {
    assertThat(PhysicalFloor.parse(json("{\"event_id\":\"e1\",\"user_id\":"))).isNull();
    assertThat(PhysicalFloor.parse(json("{\"event_id\":\"e1\",\"ts\":\"2024-01-01T00:00:00Z\"}"))).isNull();
    assertThat(PhysicalFloor.parse(json("[1,2]"))).isNull();
    assertThat(PhysicalFloor.parse(json("{\"event_id\":\"e1\",\"user_id\":\"u\",\"ts\":\"yesterday\"}"))).isNull();
  }

  @Test
  void countsGeneratedClicksByPage() {
    ClickstreamGenerator generator = new ClickstreamGenerator(7, 0.0, 1_700_000_000_000L);
    List<byte[]> payloads = new ArrayList<>();
    for (int i = 0; i < 500; i++) {
      payloads.add(generator.next().json());
    }
    payloads.add(json("{not json"));

    PhysicalFloor.Counts counts = PhysicalFloor.countByPage(payloads);

    assertThat(counts.parsed()).isEqualTo(500);
    assertThat(counts.rejected()).isEqualTo(1);
    assertThat(counts.byPage().values().stream().mapToLong(Long::longValue).sum()).isEqualTo(500);
    assertThat(counts.byPage()).containsKey("/cart").allSatisfy((page, n) -> assertThat(page).startsWith("/"));
  }

  @Test
  void countsEachPageExactly() {
    PhysicalFloor.Counts counts = PhysicalFloor.countByPage(List.of(
        json("{\"event_id\":\"1\",\"user_id\":\"a\",\"page\":\"/x\",\"ts\":\"2024-01-01T00:00:00Z\"}"),
        json("{\"event_id\":\"2\",\"user_id\":\"b\",\"page\":\"/x\",\"ts\":\"2024-01-01T00:00:01Z\"}"),
        json("{\"event_id\":\"3\",\"user_id\":\"c\",\"page\":\"/y\",\"ts\":\"2024-01-01T00:00:02Z\"}")));

    assertThat(counts.byPage()).isEqualTo(Map.of("/x", 2L, "/y", 1L));
  }
}
