package io.spindrift.commit;

import static org.assertj.core.api.Assertions.assertThat;

import io.spindrift.state.LocalState;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/**
 * The publish claim's contract, in memory and on DynamoDB Local: one holder at a time, renewed and released only by
 * its owner, taken over once expired by exactly one of the claimers.
 */
class PublishClaimTest {
  private static final String TABLE = "spindrift-claim-tests";

  @Test
  void inMemoryClaimHasOneHolderAndIsTakenOverOnceExpired() {
    AtomicLong clock = new AtomicLong(1_000);
    InMemoryPublishClaim claims = new InMemoryPublishClaim(clock::get);

    assertOneHolderRenewedAndReleasedByItsOwner(claims, "app-" + UUID.randomUUID());

    String app = "app-" + UUID.randomUUID();
    assertThat(claims.tryTake(app, "dead", 3, 500)).isTrue();
    clock.addAndGet(501);
    assertThat(claims.read(app).expired()).isTrue();
    assertThat(claims.tryTake(app, "successor", 7, 500)).isTrue();
    assertThat(claims.tryTake(app, "third", 7, 500)).as("only one claimer takes an expired claim over").isFalse();
    assertThat(claims.renew(app, "dead", 500)).as("the old owner learns it lost the claim").isFalse();
    claims.release(app, "dead");
    assertThat(claims.read(app).owner()).isEqualTo("successor");
  }

  @Test
  void dynamoDbClaimHasOneHolderAndIsTakenOverOnceExpired() {
    DynamoDbCommitLog log = new DynamoDbCommitLog(LocalState.dynamo(), TABLE);
    log.ensureTable();
    DynamoDbPublishClaim claims = new DynamoDbPublishClaim(LocalState.dynamo(), TABLE);

    assertOneHolderRenewedAndReleasedByItsOwner(claims, "app-" + UUID.randomUUID());

    String app = "app-" + UUID.randomUUID();
    assertThat(claims.tryTake(app, "dead", 3, 200)).isTrue();
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (!claims.read(app).expired()) {
      assertThat(System.nanoTime()).as("the claim expires").isLessThan(deadline);
      java.util.concurrent.locks.LockSupport.parkNanos(20_000_000);
    }
    assertThat(claims.tryTake(app, "successor", 7, 60_000)).isTrue();
    assertThat(claims.tryTake(app, "third", 7, 60_000)).as("only one claimer takes an expired claim over").isFalse();
    assertThat(claims.renew(app, "dead", 60_000)).as("the old owner learns it lost the claim").isFalse();
    claims.release(app, "dead");
    assertThat(claims.read(app).owner()).isEqualTo("successor");
    assertThat(log.read(app, java.util.List.of()).headSeq()).as("the claim is no commit-log item").isZero();
  }

  private static void assertOneHolderRenewedAndReleasedByItsOwner(PublishClaim claims, String app) {
    assertThat(claims.read(app)).isNull();
    assertThat(claims.tryTake(app, "a", 5, 60_000)).isTrue();
    assertThat(claims.tryTake(app, "b", 6, 60_000)).as("a live claim keeps its holder").isFalse();
    PublishClaim.Claim held = claims.read(app);
    assertThat(held.owner()).isEqualTo("a");
    assertThat(held.through()).isEqualTo(5);
    assertThat(held.expired()).isFalse();
    assertThat(claims.renew(app, "a", 60_000)).isTrue();
    assertThat(claims.renew(app, "b", 60_000)).isFalse();
    claims.release(app, "b");
    assertThat(claims.read(app).owner()).as("only the owner releases").isEqualTo("a");
    claims.release(app, "a");
    assertThat(claims.read(app)).isNull();
    assertThat(claims.tryTake(app, "b", 6, 60_000)).isTrue();
    claims.release(app, "b");
  }
}
