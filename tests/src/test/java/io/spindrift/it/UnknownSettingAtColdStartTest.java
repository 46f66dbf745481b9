package io.spindrift.it;

import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.amazonaws.services.lambda.runtime.events.KinesisEvent;
import com.amazonaws.services.lambda.runtime.events.StreamsEventResponse;
import io.spindrift.handler.KinesisHandler;
import io.spindrift.local.mapping.ContainerSpec;
import io.spindrift.local.mapping.FrozenContainers;
import io.spindrift.local.mapping.LambdaInvoker;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * A Lambda cold start (a new JVM, the handler's no-argument constructor, settings from the environment) with a
 * misspelled setting fails its first invocation naming the typo and the setting meant, instead of silently running
 * with the default.
 */
class UnknownSettingAtColdStartTest {
  @Test
  void aMisspelledSettingInTheFunctionsEnvironmentFailsTheColdStartNamingTheSettingMeant() {
    List<String> jvmOptions = new ArrayList<>(List.of("-Xmx512m", "-XX:+UseSerialGC"));
    for (String option : System.getProperty("spindrift.spark.opens", "").split(" ")) {
      if (!option.isBlank()) {
        jvmOptions.add(option);
      }
    }
    ContainerSpec spec = ContainerSpec.of(KinesisHandler.class.getName(), KinesisEvent.class,
        StreamsEventResponse.class, Map.of("SPINDRIFT_APP", "typo", "SPINDRIFT_SINK_FROMAT", "delta",
            "SPARK_LOCAL_IP", "127.0.0.1"), jvmOptions);

    try (FrozenContainers function = new FrozenContainers(spec, 1)) {
      assertThatThrownBy(() -> function.invoke(
          KinesisEvents.event("clicks", "shardId-000000000000", 0, KinesisEvents.clicks(1, 1))))
          .isInstanceOf(LambdaInvoker.FunctionError.class)
          .hasMessageContaining(
              "unknown setting SPINDRIFT_SINK_FROMAT (from the environment); did you mean SPINDRIFT_SINK_FORMAT?");
    }
  }
}
