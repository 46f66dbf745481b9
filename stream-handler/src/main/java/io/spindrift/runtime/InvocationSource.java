package io.spindrift.runtime;

import io.spindrift.event.SourceKind;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import org.apache.spark.sql.catalyst.InternalRow;
import org.apache.spark.sql.connector.catalog.SupportsRead;
import org.apache.spark.sql.connector.catalog.Table;
import org.apache.spark.sql.connector.catalog.TableCapability;
import org.apache.spark.sql.connector.catalog.TableProvider;
import org.apache.spark.sql.connector.expressions.Transform;
import org.apache.spark.sql.connector.read.InputPartition;
import org.apache.spark.sql.connector.read.PartitionReader;
import org.apache.spark.sql.connector.read.PartitionReaderFactory;
import org.apache.spark.sql.connector.read.Scan;
import org.apache.spark.sql.connector.read.ScanBuilder;
import org.apache.spark.sql.connector.read.streaming.MicroBatchStream;
import org.apache.spark.sql.connector.read.streaming.Offset;
import org.apache.spark.sql.types.StructType;
import org.apache.spark.sql.util.CaseInsensitiveStringMap;

/**
 * A DSv2 micro-batch source fed by the runtime, one invocation at a time: each {@link Feed#offer} adds one
 * invocation's rows as the next offset, and the query's next micro-batch reads exactly those rows. Read it with
 * {@code spark.readStream().format(InvocationSource.class.getName()).option("feed", id)}. While no rows are
 * waiting, {@code latestOffset} long-polls briefly instead of letting the query spin.
 */
public final class InvocationSource implements TableProvider {
  /** Open feeds by id; part of the per-container runtime (Spark instantiates this class by name). */
  private static final Map<String, Feed> FEEDS = new ConcurrentHashMap<>();

  static Feed open(String id, int splits) {
    Feed feed = new Feed(id, splits);
    FEEDS.put(id, feed);
    return feed;
  }

  static void close(String id) {
    FEEDS.remove(id);
  }

  @Override
  public StructType inferSchema(CaseInsensitiveStringMap options) {
    return SourceKind.valueOf(options.get("kind")).schema();
  }

  @Override
  public Table getTable(StructType schema, Transform[] partitioning, Map<String, String> properties) {
    String id = properties.get("feed");
    Feed feed = FEEDS.get(id);
    if (feed == null) {
      throw new IllegalStateException("No open invocation feed " + id);
    }
    return new FeedTable(schema, feed);
  }

  /** The rows of the invocations not yet read, by offset. */
  static final class Feed {
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition arrived = lock.newCondition();
    private final NavigableMap<Long, List<InternalRow>> pending = new TreeMap<>();
    private final String id;
    private final int splits;
    private long latest;

    Feed(String id, int splits) {
      this.id = id;
      this.splits = splits;
    }

    /** Adds one invocation's rows; returns their offset. */
    long offer(List<InternalRow> rows) {
      lock.lock();
      try {
        latest++;
        pending.put(latest, rows);
        arrived.signalAll();
        return latest;
      } finally {
        lock.unlock();
      }
    }

    long latest(long after) {
      lock.lock();
      try {
        if (latest <= after) {
          arrived.await(100, TimeUnit.MILLISECONDS);
        }
        return latest;
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return latest;
      } finally {
        lock.unlock();
      }
    }

    List<InternalRow> rows(long after, long upTo) {
      lock.lock();
      try {
        List<InternalRow> rows = new ArrayList<>();
        pending.subMap(after, false, upTo, true).values().forEach(rows::addAll);
        return rows;
      } finally {
        lock.unlock();
      }
    }

    void release(long upTo) {
      lock.lock();
      try {
        pending.headMap(upTo, true).clear();
      } finally {
        lock.unlock();
      }
    }
  }

  private record FeedTable(StructType schema, Feed feed) implements Table, SupportsRead {
    @Override
    public String name() {
      return "spindrift-invocations";
    }

    @Override
    public Set<TableCapability> capabilities() {
      return Set.of(TableCapability.MICRO_BATCH_READ);
    }

    @Override
    public ScanBuilder newScanBuilder(CaseInsensitiveStringMap options) {
      return () -> new Scan() {
        @Override
        public StructType readSchema() {
          return schema;
        }

        @Override
        public MicroBatchStream toMicroBatchStream(String checkpointLocation) {
          return new FeedStream(feed);
        }
      };
    }
  }

  private static final class FeedOffset extends Offset {
    private final long value;

    FeedOffset(long value) {
      this.value = value;
    }

    @Override
    public String json() {
      return Long.toString(value);
    }
  }

  private static final class FeedStream implements MicroBatchStream {
    private final Feed feed;
    private long lastSeen;

    FeedStream(Feed feed) {
      this.feed = feed;
    }

    @Override
    public Offset initialOffset() {
      return new FeedOffset(0);
    }

    @Override
    public Offset latestOffset() {
      lastSeen = feed.latest(lastSeen);
      return new FeedOffset(lastSeen);
    }

    @Override
    public Offset deserializeOffset(String json) {
      return new FeedOffset(Long.parseLong(json.trim()));
    }

    @Override
    public InputPartition[] planInputPartitions(Offset start, Offset end) {
      long after = ((FeedOffset) start).value;
      long upTo = ((FeedOffset) end).value;
      int size = feed.rows(after, upTo).size();
      if (size == 0) {
        return new InputPartition[0];
      }
      int parts = Math.max(1, Math.min(feed.splits, size / 500));
      List<InputPartition> partitions = new ArrayList<>();
      int per = (size + parts - 1) / parts;
      for (int from = 0; from < size; from += per) {
        partitions.add(new RowsPartition(feed.id, after, upTo, from, Math.min(size, from + per)));
      }
      return partitions.toArray(InputPartition[]::new);
    }

    @Override
    public PartitionReaderFactory createReaderFactory() {
      return new RowsReaderFactory();
    }

    @Override
    public void commit(Offset end) {
      feed.release(((FeedOffset) end).value);
    }

    @Override
    public void stop() {}
  }

  /** Reads a {@link RowsPartition}; static so that it serializes without its stream. */
  private static final class RowsReaderFactory implements PartitionReaderFactory {
    @Override
    public PartitionReader<InternalRow> createReader(InputPartition partition) {
      RowsPartition slice = (RowsPartition) partition;
      Feed feed = FEEDS.get(slice.feedId());
      if (feed == null) {
        throw new IllegalStateException("Invocation feed " + slice.feedId() + " is closed");
      }
      List<InternalRow> rows = feed.rows(slice.after(), slice.upTo()).subList(slice.from(), slice.to());
      return new PartitionReader<>() {
        private int index = -1;

        @Override
        public boolean next() {
          return ++index < rows.size();
        }

        @Override
        public InternalRow get() {
          return rows.get(index);
        }

        @Override
        public void close() {}
      };
    }
  }

  /**
   * A slice of a feed's rows, read in this JVM: Spindrift runs Spark in local mode inside one function, so the
   * rows are never serialized to reach a task.
   */
  private record RowsPartition(String feedId, long after, long upTo, int from, int to) implements InputPartition {}
}
