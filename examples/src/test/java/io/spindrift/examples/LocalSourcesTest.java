package io.spindrift.examples;

import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.errors.TimeoutException;
import org.junit.jupiter.api.Test;

/** A produce that cannot reach its broker fails at the send, naming the topic and partition, not silently. */
class LocalSourcesTest {
  private static final Map<String, String> QUICK_TIMEOUT = Map.of(ProducerConfig.MAX_BLOCK_MS_CONFIG, "300");

  @Test
  void aSendThatTimesOutFailsAtTheSendNamingTheTopicAndThatItsPartitionIsUnknown() throws IOException {
    KafkaProducer<byte[], byte[]> producer = LocalSources.producer(unreachableBootstrap(), QUICK_TIMEOUT);

    assertThatThrownBy(() -> LocalSources.send(producer, "clicks", "user-1", bytes("{}")))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("topic clicks, partition unknown")
        .hasRootCauseInstanceOf(TimeoutException.class);
    assertThatThrownBy(() -> LocalSources.send(producer, "clicks", "user-2", bytes("{}")))
        .as("a later send").hasMessageContaining("topic clicks");
    assertThatThrownBy(producer::flush).as("flush").hasMessageContaining("topic clicks");
    assertThatThrownBy(producer::close).as("close").hasMessageContaining("topic clicks");
  }

  @Test
  void aFailedSendToAChosenPartitionNamesIt() throws IOException {
    KafkaProducer<byte[], byte[]> producer = LocalSources.producer(unreachableBootstrap(), QUICK_TIMEOUT);
    assertThatThrownBy(() -> producer.send(new ProducerRecord<>("orders", 3, bytes("k"), bytes("{}"))))
        .hasMessageContaining("topic orders, partition 3 failed");
    assertThatThrownBy(() -> producer.close()).hasMessageContaining("topic orders, partition 3");
  }

  /** A loopback port nothing listens on. */
  private static String unreachableBootstrap() throws IOException {
    try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      return "127.0.0.1:" + socket.getLocalPort();
    }
  }

  private static byte[] bytes(String text) {
    return text.getBytes(StandardCharsets.UTF_8);
  }
}
