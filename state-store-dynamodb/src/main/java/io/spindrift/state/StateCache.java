package io.spindrift.state;

import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;

/**
 * A container's warm copy of the buckets it has read, valid as of one commit seq ({@link #validThrough()}).
 * Applying the next commit updates it in memory; {@link #refresh} drops the buckets other commits touched and
 * reads them again. A read that raced an apply or refresh is returned but not kept (a generation counter tells).
 */
final class StateCache {
  private final Map<StateBucket, BucketState> cache = new ConcurrentHashMap<>();
  private final Object lock = new Object();
  private long validThrough;
  private long generation;

  /** The bucket's rows from the cache, or from {@code load} (then kept unless the cache moved meanwhile). */
  BucketState read(StateBucket bucket, Function<StateBucket, BucketState> load) {
    BucketState cached = cache.get(bucket);
    if (cached != null) {
      return cached;
    }
    long readAt = generation();
    BucketState loaded = load.apply(bucket);
    synchronized (lock) {
      // an apply or refresh since the read started may have made what we read stale: then do not keep it
      if (generation == readAt) {
        BucketState raced = cache.putIfAbsent(bucket, loaded);
        return raced != null ? raced : loaded;
      }
    }
    return loaded;
  }

  /**
   * Moves the cache to {@code toSeq}: the cached ones among {@code touched} are read again with {@code loadAll}
   * (given the stale buckets, returning their states in order); an older {@code toSeq} changes nothing.
   */
  void refresh(long toSeq, Collection<StateBucket> touched,
      Function<List<StateBucket>, List<BucketState>> loadAll) {
    List<StateBucket> stale = new ArrayList<>();
    long readAt;
    synchronized (lock) {
      if (toSeq <= validThrough) {
        return;
      }
      for (StateBucket bucket : new LinkedHashSet<>(touched)) {
        if (cache.remove(bucket) != null) {
          stale.add(bucket);
        }
      }
      validThrough = toSeq;
      readAt = ++generation;
    }
    List<BucketState> fresh = loadAll.apply(stale);
    synchronized (lock) {
      if (generation == readAt) {
        for (int i = 0; i < stale.size(); i++) {
          cache.putIfAbsent(stale.get(i), fresh.get(i));
        }
      }
    }
  }

  /** Commit {@code seq}'s deltas were applied: the next commit updates the cache, a later one drops its buckets. */
  void applied(Collection<StateDelta> deltas, long seq) {
    synchronized (lock) {
      if (seq <= validThrough) {
        return;
      }
      generation++;
      if (seq == validThrough + 1) {
        deltas.forEach(delta -> cache.computeIfPresent(delta.bucket(), (bucket, state) -> state.with(delta, seq)));
        validThrough = seq;
      } else {
        // commits between validThrough and seq are unknown here: what they did to these buckets must be re-read
        deltas.forEach(delta -> cache.remove(delta.bucket()));
      }
    }
  }

  long validThrough() {
    synchronized (lock) {
      return validThrough;
    }
  }

  void invalidate() {
    synchronized (lock) {
      cache.clear();
      generation++;
    }
  }

  private long generation() {
    synchronized (lock) {
      return generation;
    }
  }
}
