package io.spindrift.sink.internal;

import io.spindrift.sink.PendingPublish;
import java.util.List;

/**
 * One publish of an app's pending stages, the loop every format shares, as Iceberg's {@code SnapshotProducer} owns
 * commit-and-retry once for every kind of update: stages without rows are skipped; each attempt reads the table,
 * drops what it already holds of the app (the held seq), and commits the rest in one table commit; a commit that
 * loses the race to a concurrent publisher is retried from a fresh read (what the winner published is then held,
 * and only the rest is committed), up to {@link #MAX_ATTEMPTS} attempts, after which the publish fails and the
 * runtime retries it later. Any other failure propagates at once. A format supplies only what differs: how to
 * read the table ({@link #read}), its held seq ({@link #held}), the commit ({@link #commit}) and which failure is a
 * lost race ({@link #lostRace}). One instance serves one publish call.
 *
 * @param <T> the format's view of the table for one attempt
 */
public abstract class Publication<T> {
  /** Attempts of one publish before one that keeps losing the race to concurrent publishers gives up. */
  public static final int MAX_ATTEMPTS = 10;

  private final String table;

  protected Publication(String table) {
    this.table = table;
  }

  /**
   * Publishes every stage of {@code pending} (consecutive commits of one app, in seq order) the table does not hold.
   *
   * @return the seqs this call published (empty if the table already held all of them)
   * @throws IllegalStateException when {@link #MAX_ATTEMPTS} attempts lost the race, the last lost race its cause
   */
  public final List<Long> publish(List<PendingPublish> pending) {
    List<PendingPublish> withRows = pending.stream().filter(p -> p.ref() != null).toList();
    if (withRows.isEmpty()) {
      return List.of();
    }
    return publish(withRows.get(0).tag().app(), withRows);
  }

  /**
   * Publishes {@code withRows} (no stage without rows) of {@code app} through {@link #attempts}; a format that must
   * wait for something first (a lease) overrides this and calls {@link #attempts} itself.
   */
  protected List<Long> publish(String app, List<PendingPublish> withRows) {
    return attempts(app, withRows);
  }

  /** The publish loop: read, skip what is held, commit, and on a lost race read again. */
  protected final List<Long> attempts(String app, List<PendingPublish> withRows) {
    for (int attempt = 1; ; attempt++) {
      T current = read(attempt, withRows);
      List<PendingPublish> todo = unpublished(withRows, held(current, app));
      if (todo.isEmpty()) {
        return List.of();
      }
      try {
        return commit(current, app, todo);
      } catch (RuntimeException raced) {
        if (!lostRace(raced)) {
          throw raced;
        }
        if (attempt >= MAX_ATTEMPTS) {
          throw new IllegalStateException("Sink " + table + ": publishing commits " + todo.get(0).tag().seq() + ".."
              + todo.get(todo.size() - 1).tag().seq() + " of app " + app + " lost the race to a concurrent publisher "
              + attempt + " times in a row; giving up (the publish is retried by the next invocation)", raced);
        }
      }
    }
  }

  /** The stages of {@code pending} above {@code held}. */
  protected static List<PendingPublish> unpublished(List<PendingPublish> pending, long held) {
    return pending.stream().filter(p -> p.tag().seq() > held).toList();
  }

  /** The seqs of {@code todo}, in order: what a commit of all of them published. */
  protected static List<Long> seqs(List<PendingPublish> todo) {
    return todo.stream().map(p -> p.tag().seq()).toList();
  }

  /** The table as attempt {@code attempt} (from 1) sees it; {@code pending} may serve to create a missing table. */
  protected abstract T read(int attempt, List<PendingPublish> pending);

  /** The highest seq of {@code app} {@code current} holds (anything below the app's first seq for none). */
  protected abstract long held(T current, String app);

  /**
   * Publishes {@code todo} (the pending stages {@code current} does not hold, in seq order).
   *
   * @return the seqs published
   */
  protected abstract List<Long> commit(T current, String app, List<PendingPublish> todo);

  /** True if {@code failure} of {@link #commit} means a concurrent publisher won: worth another attempt. */
  protected abstract boolean lostRace(RuntimeException failure);
}
