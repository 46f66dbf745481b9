package io.spindrift.local;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** A service whose free port was taken before it bound it starts again on another; other failures are final. */
class PortRaceTest {
  @Test
  void aServiceThatLostItsPortIsStartedAgainOnANewOne() {
    AtomicInteger attempts = new AtomicInteger();
    LocalService started = LocalStack.retryingPortRaces(() -> {
      if (attempts.incrementAndGet() == 1) {
        throw new IllegalStateException("dynamodb exited with code 1 before it was ready; log x, last lines:\n"
            + "Caused by: java.net.BindException: Address already in use");
      }
      return null;
    });
    assertThat(started).isNull();
    assertThat(attempts).hasValue(2);
  }

  @Test
  void anyOtherFailureIsThrownAtOnceAndAPortThatKeepsBeingTakenGivesUp() {
    AtomicInteger attempts = new AtomicInteger();
    assertThatThrownBy(() -> LocalStack.retryingPortRaces(() -> {
      attempts.incrementAndGet();
      throw new IllegalStateException("s3proxy exited with code 1: no such class");
    })).hasMessageContaining("no such class");
    assertThat(attempts).hasValue(1);

    AtomicInteger races = new AtomicInteger();
    assertThatThrownBy(() -> LocalStack.retryingPortRaces(() -> {
      races.incrementAndGet();
      throw new IllegalStateException("kafka: Failed to bind to /127.0.0.1:1234");
    })).hasMessageContaining("Failed to bind");
    assertThat(races).hasValue(3);
  }
}
