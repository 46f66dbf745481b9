package io.spindrift.runtime;

import io.spindrift.event.SourceKind;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
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
import org.apache.spark.sql.connector.read.streaming.ReadLimit;
import org.apache.spark.sql.connector.read.streaming.SupportsTriggerAvailableNow;
import org.apache.spark.sql.types.StructType;
import org.apache.spark.sql.util.CaseInsensitiveStringMap;

/**
 * A DSv2 micro-batch source that serves exactly one invocation's records, once: offset 0 before, 1 after. The
 * runtime registers the rows under an invocation id ({@link #register}) and reads them with
 * {@code spark.readStream().format(InvocationSource.class.getName()).option("invocation", id)}.
 */
public final class InvocationSource implements TableProvider {
  /** Rows waiting to be read, by invocation id; part of the per-container runtime (Spark instantiates us). */
  private static final Map<String, List<InternalRow>> PENDING = new ConcurrentHashMap<>();

  static void register(String invocation, List<InternalRow> rows) {
    PENDING.put(invocation, rows);
  }

  static void release(String invocation) {
    PENDING.remove(invocation);
  }

  @Override
  public StructType inferSchema(CaseInsensitiveStringMap options) {
    return SourceKind.valueOf(options.get("kind")).schema();
  }

  @Override
  public Table getTable(StructType schema, Transform[] partitioning, Map<String, String> properties) {
    return new InvocationTable(schema, properties.get("invocation"), Integer.parseInt(properties.getOrDefault("splits", "1")));
  }

  private record InvocationTable(StructType schema, String invocation, int splits) implements Table, SupportsRead {
    @Override
    public String name() {
      return "spindrift-invocation";
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
          return new InvocationStream(invocation, splits);
        }
      };
    }
  }


  private static final class InvocationOffset extends Offset {
    private final long value;

    InvocationOffset(long value) {
      this.value = value;
    }

    @Override
    public String json() {
      return Long.toString(value);
    }
  }

  private static final class InvocationStream implements MicroBatchStream, SupportsTriggerAvailableNow {
    private final String invocation;
    private final int splits;

    InvocationStream(String invocation, int splits) {
      this.invocation = invocation;
      this.splits = splits;
    }

    @Override
    public Offset initialOffset() {
      return new InvocationOffset(0);
    }

    @Override
    public Offset latestOffset() {
      return new InvocationOffset(1);
    }

    @Override
    public Offset latestOffset(Offset start, ReadLimit limit) {
      return new InvocationOffset(1);
    }

    @Override
    public ReadLimit getDefaultReadLimit() {
      return ReadLimit.allAvailable();
    }

    @Override
    public void prepareForTriggerAvailableNow() {}

    @Override
    public Offset deserializeOffset(String json) {
      return new InvocationOffset(Long.parseLong(json.trim()));
    }

    @Override
    public InputPartition[] planInputPartitions(Offset start, Offset end) {
      List<InternalRow> rows = PENDING.getOrDefault(invocation, List.of());
      if (((InvocationOffset) end).value <= ((InvocationOffset) start).value || rows.isEmpty()) {
        return new InputPartition[0];
      }
      int parts = Math.max(1, Math.min(splits, rows.size() / 500));
      List<InputPartition> partitions = new ArrayList<>();
      int per = (rows.size() + parts - 1) / parts;
      for (int from = 0; from < rows.size(); from += per) {
        partitions.add(new RowsPartition(new ArrayList<>(rows.subList(from, Math.min(rows.size(), from + per)))));
      }
      return partitions.toArray(InputPartition[]::new);
    }

    @Override
    public PartitionReaderFactory createReaderFactory() {
      return new RowsReaderFactory();
    }

    @Override
    public void commit(Offset end) {}

    @Override
    public void stop() {}
  }

  /** Reads a {@link RowsPartition}; static so that it serializes without its stream. */
  private static final class RowsReaderFactory implements PartitionReaderFactory {
    @Override
    public PartitionReader<InternalRow> createReader(InputPartition partition) {
      List<InternalRow> rows = ((RowsPartition) partition).rows();
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

  /** The rows travel inside the partition: the source needs no shared storage. */
  private record RowsPartition(List<InternalRow> rows) implements InputPartition {}
}
