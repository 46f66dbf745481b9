package io.spindrift.commit;

import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The {@link CommitLog} contract in memory, for protocol tests and in-process runs: the same conditions (head at
 * seq − 1, every lane at the position the commit started from, a new lane absent), checked and applied under one
 * lock, so a commit is all or nothing exactly as a DynamoDB transaction is.
 */
public final class InMemoryCommitLog implements CommitLog {
  private static final int MAX_LANES = 98;
  private final Map<String, App> apps = new HashMap<>();

  private static final class App {
    long head;
    long published;
    String checkpoint;
    final Map<String, String> lanes = new HashMap<>();
    final TreeMap<Long, CommitRecord> commits = new TreeMap<>();
    final Map<String, CommitRecord> pending = new LinkedHashMap<>();
    final Map<Integer, Long> buckets = new HashMap<>();
    /** The bucket versions as of the head: what the sequenced commits left each bucket at. */
    final Map<Integer, Long> headBuckets = new HashMap<>();
    /** Whether a bucket commit was sequenced on the head. */
    boolean bucketCommits;
  }

  private App app(String app) {
    return apps.computeIfAbsent(app, a -> new App());
  }

  @Override
  public synchronized LogSnapshot read(String app, Collection<String> lanes) {
    App state = app(app);
    Map<String, String> positions = new HashMap<>();
    for (String lane : lanes) {
      String position = state.lanes.get(lane);
      if (position != null) {
        positions.put(lane, position);
      }
    }
    return new LogSnapshot(state.head, state.published, positions, state.checkpoint, state.headBuckets,
        state.bucketCommits);
  }

  @Override
  public synchronized List<CommitRecord> commits(String app, long afterSeq, long toSeq) {
    if (toSeq <= afterSeq) {
      return List.of();
    }
    return new ArrayList<>(app(app).commits.subMap(afterSeq, false, toSeq, true).values());
  }

  @Override
  public synchronized CommitResult tryCommit(String app, CommitRecord commit, String checkpoint) {
    if (commit.lanes().size() > MAX_LANES) {
      throw new IllegalArgumentException("A batch may span at most " + MAX_LANES + " lanes; this one spans "
          + commit.lanes().size() + ". Lower the event-source batch size.");
    }
    App state = app(app);
    if (state.head != commit.seq() - 1 || state.commits.containsKey(commit.seq())) {
      return CommitResult.CONFLICT;
    }
    for (LaneRange range : commit.lanes()) {
      String now = state.lanes.get(range.lane());
      boolean asRead = range.previous() == null ? now == null : range.previous().equals(now);
      if (!asRead) {
        return CommitResult.CONFLICT;
      }
    }
    state.head = commit.seq();
    if (checkpoint != null) {
      state.checkpoint = checkpoint;
    }
    commit.lanes().forEach(range -> state.lanes.put(range.lane(), range.last()));
    state.commits.put(commit.seq(), commit);
    return CommitResult.COMMITTED;
  }

  @Override
  public synchronized CommitResult tryCommitLanes(String app, CommitRecord commit) {
    if (commit.lanes().size() > MAX_LANES) {
      throw new IllegalArgumentException("A batch may span at most " + MAX_LANES + " lanes; this one spans "
          + commit.lanes().size() + ". Lower the event-source batch size.");
    }
    App state = app(app);
    if (state.pending.containsKey(commit.txnId()) || !lanesAsRead(state, commit)) {
      return CommitResult.CONFLICT;
    }
    commit.lanes().forEach(range -> state.lanes.put(range.lane(), range.last()));
    state.pending.put(commit.txnId(), commit.withSeq(0));
    return CommitResult.COMMITTED;
  }

  @Override
  public synchronized Map<Integer, Long> bucketVersions(String app, int buckets) {
    Map<Integer, Long> versions = new HashMap<>();
    for (int bucket = 0; bucket < buckets; bucket++) {
      versions.put(bucket, app(app).buckets.getOrDefault(bucket, 0L));
    }
    return versions;
  }

  @Override
  public synchronized CommitResult tryCommitBuckets(String app, CommitRecord commit) {
    if (commit.lanes().size() + commit.buckets().size() + 1 > 100) {
      throw new IllegalArgumentException("A bucket commit may write at most 99 lanes and buckets; this one writes "
          + commit.lanes().size() + " lanes and " + commit.buckets().size() + " buckets");
    }
    App state = app(app);
    if (!bucketsAndLanesAsRead(state, commit)) {
      return CommitResult.CONFLICT;
    }
    commit.buckets().forEach(bucket -> state.buckets.put(bucket.bucket(), bucket.next()));
    commit.lanes().forEach(range -> state.lanes.put(range.lane(), range.last()));
    state.pending.put(commit.txnId(), commit.withSeq(0));
    return CommitResult.COMMITTED;
  }

  @Override
  public synchronized CommitResult sequence(String app, long headSeq, List<CommitRecord> inOrder,
      String checkpoint) {
    CommitResult result = sequence(app, headSeq, inOrder);
    if (result == CommitResult.COMMITTED && checkpoint != null) {
      app(app).checkpoint = checkpoint;
    }
    return result;
  }

  @Override
  public synchronized List<CommitRecord> pending(String app) {
    return new ArrayList<>(app(app).pending.values());
  }

  @Override
  public synchronized CommitResult sequence(String app, long headSeq, List<CommitRecord> inOrder) {
    App state = app(app);
    if (state.head != headSeq || inOrder.stream().anyMatch(c -> !state.pending.containsKey(c.txnId()))) {
      return CommitResult.CONFLICT;
    }
    checkVersionOrder(state, inOrder);
    for (CommitRecord commit : inOrder) {
      state.head++;
      state.commits.put(state.head, state.pending.remove(commit.txnId()).withSeq(state.head));
      headBuckets(state, commit);
    }
    return CommitResult.COMMITTED;
  }

  @Override
  public synchronized CommitResult tryCommitBucketsSequenced(String app, long headSeq, CommitRecord commit,
      String checkpoint) {
    App state = app(app);
    if (!bucketsAndLanesAsRead(state, commit)) {
      return CommitResult.CONFLICT;
    }
    if (state.head != headSeq || state.commits.containsKey(headSeq + 1)) {
      return CommitResult.HEAD_MOVED;
    }
    checkVersionOrder(state, List.of(commit));
    commit.buckets().forEach(bucket -> state.buckets.put(bucket.bucket(), bucket.next()));
    commit.lanes().forEach(range -> state.lanes.put(range.lane(), range.last()));
    state.head = headSeq + 1;
    state.commits.put(state.head, commit.withSeq(state.head));
    headBuckets(state, commit);
    if (checkpoint != null) {
      state.checkpoint = checkpoint;
    }
    return CommitResult.COMMITTED;
  }

  private static void headBuckets(App state, CommitRecord sequenced) {
    sequenced.buckets().forEach(bucket -> state.headBuckets.put(bucket.bucket(), bucket.next()));
    state.bucketCommits |= sequenced.isBucketCommit();
  }

  /** Refuses a sequencing that would take a bucket's version on the head backwards (an ordering bug). */
  private static void checkVersionOrder(App state, List<CommitRecord> inOrder) {
    Map<Integer, Long> versions = new HashMap<>(state.headBuckets);
    for (CommitRecord commit : inOrder) {
      for (BucketVersion bucket : commit.buckets()) {
        if (versions.getOrDefault(bucket.bucket(), 0L) >= bucket.next()) {
          throw new IllegalStateException("Bucket " + bucket.bucket() + " sequenced out of version order: the head"
              + " has " + versions.get(bucket.bucket()) + ", commit " + commit.txnId() + " left " + bucket.next());
        }
        versions.put(bucket.bucket(), bucket.next());
      }
    }
  }

  /** Whether every bucket and lane of {@code commit} is where it read them, and the commit is not pending yet. */
  private static boolean bucketsAndLanesAsRead(App state, CommitRecord commit) {
    for (BucketVersion bucket : commit.buckets()) {
      if (state.buckets.getOrDefault(bucket.bucket(), 0L) != bucket.read()) {
        return false;
      }
    }
    return !state.pending.containsKey(commit.txnId()) && lanesAsRead(state, commit);
  }

  private static boolean lanesAsRead(App state, CommitRecord commit) {
    for (LaneRange range : commit.lanes()) {
      String now = state.lanes.get(range.lane());
      boolean asRead = range.previous() == null ? now == null : range.previous().equals(now);
      if (!asRead) {
        return false;
      }
    }
    return true;
  }

  @Override
  public synchronized void markPublished(String app, long seq) {
    App state = app(app);
    state.published = Math.max(state.published, seq);
  }
}
