package io.spindrift.job;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.spindrift.config.ConfigException;
import io.spindrift.config.SpindriftConfig;
import io.spindrift.sink.SinkSpec;
import java.util.Map;
import org.junit.jupiter.api.Test;

class SqlJobTest {
  @Test
  void headerCommentsSetTheSink() {
    SqlJob job = new SqlJob("-- spindrift.sink.table: analytics.clicks\n-- spindrift.output.mode: update\nSELECT 1 FROM events",
        "test.sql", "");

    assertThat(job.sink().table()).isEqualTo("analytics.clicks");
    assertThat(job.sink().mode()).isEqualTo(SinkSpec.Mode.APPEND);
    assertThat(job.outputMode()).isEqualTo("update");
  }

  @Test
  void tableOverrideWinsAndIsEnoughWithoutHeader() {
    assertThat(new SqlJob("SELECT 1 FROM events", "x.sql", "ns.t").sink().table()).isEqualTo("ns.t");
  }

  @Test
  void missingTableAndUnknownHeaderAreClearErrors() {
    assertThatThrownBy(() -> new SqlJob("SELECT 1", "x.sql", ""))
        .hasMessageContaining("spindrift.sink.table").hasMessageContaining("x.sql");
    assertThatThrownBy(() -> new SqlJob("-- spindrift.sink.tabel: a.b\nSELECT 1", "x.sql", ""))
        .hasMessageContaining("spindrift.sink.tabel");
  }

  @Test
  void payloadHeadersAreAcceptedAndAProtobufHeaderNeedsItsMessage() {
    new SqlJob("-- spindrift.payload.avro: registry:orders-value\nSELECT * FROM payloads", "x.sql", "ns.t");
    new SqlJob("-- spindrift.payload.protobuf: s3://b/o.desc#shop.Order\nSELECT * FROM payloads", "x.sql", "ns.t");
    assertThatThrownBy(() -> new SqlJob("-- spindrift.payload.protobuf: s3://b/o.desc\nSELECT 1", "x.sql", "ns.t"))
        .hasMessageContaining("spindrift.payload.protobuf").hasMessageContaining("#<message>");
  }

  @Test
  void jobSettingIsLoadedOrRefusedByName() {
    assertThat(JobLoader.load(SpindriftConfig.of(Map.of()))).isInstanceOf(PassThroughJob.class);
    assertThatThrownBy(() -> JobLoader.load(SpindriftConfig.of(Map.of("SPINDRIFT_JOB", "com.example.Missing"))))
        .isInstanceOf(ConfigException.class).hasMessageContaining("SPINDRIFT_JOB");
    assertThatThrownBy(() -> JobLoader.load(SpindriftConfig.of(Map.of("SPINDRIFT_JOB", "java.lang.String"))))
        .hasMessageContaining("does not implement");
    assertThatThrownBy(() -> JobLoader.load(SpindriftConfig.of(Map.of("SPINDRIFT_JOB", "classpath:nope.sql"))))
        .hasMessageContaining("SPINDRIFT_JOB").hasMessageContaining("nope.sql");
  }
}
