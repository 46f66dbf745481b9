package io.spindrift.sink.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.spindrift.sink.CommitTag;
import io.spindrift.sink.PendingPublish;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The publish loop the three formats share, on an in-memory table that holds a prefix of one app's seqs. */
class PublicationTest {
  /** A lost race of the fake table: a concurrent publisher committed first. */
  static final class Raced extends RuntimeException {
    Raced() {
      super("raced (injected)");
    }
  }

  /** A table whose next {@code races} commits lose to a publisher that publishes {@code rival} seqs each time. */
  static final class FakeTable extends Publication<Long> {
    long held;
    int races;
    int rival;
    int reads;
    final List<List<Long>> commits = new ArrayList<>();
    RuntimeException failure;

    FakeTable(long held) {
      super("it.t");
      this.held = held;
    }

    @Override
    protected Long read(int attempt, List<PendingPublish> pending) {
      reads++;
      return held;
    }

    @Override
    protected long held(Long current, String app) {
      return current;
    }

    @Override
    protected List<Long> commit(Long current, String app, List<PendingPublish> todo) {
      if (failure != null) {
        throw failure;
      }
      if (races > 0) {
        races--;
        held += rival;
        throw new Raced();
      }
      List<Long> seqs = seqs(todo);
      commits.add(seqs);
      held = seqs.get(seqs.size() - 1);
      return seqs;
    }

    @Override
    protected boolean lostRace(RuntimeException failure) {
      return failure instanceof Raced;
    }
  }

  private static PendingPublish pending(long seq) {
    return new PendingPublish(new CommitTag("app", seq, "txn-" + seq, "test#" + seq), "ref-" + seq);
  }

  private static PendingPublish empty(long seq) {
    return new PendingPublish(new CommitTag("app", seq, "txn-" + seq, "test#" + seq), null);
  }

  @Test
  void stagesWithoutRowsAreNeverReadNorCommitted() {
    FakeTable table = new FakeTable(0);

    assertThat(table.publish(List.of(empty(1), empty(2)))).isEmpty();
    assertThat(table.reads).isZero();
    assertThat(table.publish(List.of(empty(3), pending(4), empty(5)))).containsExactly(4L);
    assertThat(table.commits).containsExactly(List.of(4L));
  }

  @Test
  void whatTheTableHoldsIsSkipped() {
    FakeTable table = new FakeTable(2);

    assertThat(table.publish(List.of(pending(1), pending(2), pending(3), pending(4)))).containsExactly(3L, 4L);
    assertThat(table.publish(List.of(pending(3), pending(4)))).isEmpty();
    assertThat(table.commits).containsExactly(List.of(3L, 4L));
  }

  @Test
  void aLostRacePublishesWhatTheWinnerLeft() {
    FakeTable table = new FakeTable(0);
    table.races = 1;
    table.rival = 2;

    assertThat(table.publish(List.of(pending(1), pending(2), pending(3)))).containsExactly(3L);
    assertThat(table.reads).isEqualTo(2);
    assertThat(table.commits).containsExactly(List.of(3L));
  }

  @Test
  void aLostRaceWhoseWinnerPublishedEverythingPublishesNothing() {
    FakeTable table = new FakeTable(0);
    table.races = 1;
    table.rival = 2;

    assertThat(table.publish(List.of(pending(1), pending(2)))).isEmpty();
    assertThat(table.commits).isEmpty();
  }

  @Test
  void racesLostEveryTimeGiveUpAfterTheLimitNamingTableAppAndSeqs() {
    FakeTable table = new FakeTable(0);
    table.races = Integer.MAX_VALUE;

    assertThatThrownBy(() -> table.publish(List.of(pending(1), pending(2))))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("it.t").hasMessageContaining("commits 1..2 of app app")
        .hasMessageContaining(Publication.MAX_ATTEMPTS + " times").hasCauseInstanceOf(Raced.class);
    assertThat(table.reads).isEqualTo(Publication.MAX_ATTEMPTS);
  }

  @Test
  void anyOtherFailureIsNotRetried() {
    FakeTable table = new FakeTable(0);
    table.failure = new IllegalArgumentException("refused (injected)");

    assertThatThrownBy(() -> table.publish(List.of(pending(1)))).isSameAs(table.failure);
    assertThat(table.reads).isEqualTo(1);
  }
}
