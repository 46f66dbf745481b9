package io.spindrift.sink.iceberg;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.spindrift.sink.CommitTag;
import io.spindrift.sink.PendingPublish;
import io.spindrift.sink.SinkSpec;
import io.spindrift.sink.StageRows;
import io.spindrift.sink.StagedOutput;
import java.io.IOException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.iceberg.DataFile;
import org.apache.iceberg.DataFiles;
import org.apache.iceberg.FileScanTask;
import org.apache.iceberg.Table;
import org.apache.iceberg.TableMetadata;
import org.apache.iceberg.TableOperations;
import org.apache.iceberg.catalog.TableIdentifier;
import org.apache.iceberg.data.IcebergGenerics;
import org.apache.iceberg.data.Record;
import org.apache.iceberg.exceptions.ValidationException;
import org.apache.iceberg.inmemory.InMemoryCatalog;
import org.apache.iceberg.io.CloseableIterable;
import org.apache.iceberg.io.FileIO;
import org.apache.iceberg.io.LocationProvider;
import org.apache.spark.sql.catalyst.InternalRow;
import org.apache.spark.sql.catalyst.expressions.GenericInternalRow;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.apache.spark.unsafe.types.UTF8String;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The Iceberg sink's idempotence on an in-memory catalog: a publish is skipped only when the table holds its seq,
 * and what the table holds is read from a record that table maintenance (compaction, snapshot expiry) keeps.
 */
class IcebergPublishIdempotenceTest {
  private static final StructType KV = new StructType().add("k", DataTypes.StringType).add("v", DataTypes.LongType);
  private static final String APP = "app";

  private FaultyCatalog catalog;

  @BeforeEach
  void catalog() {
    catalog = new FaultyCatalog();
    catalog.initialize("mem", Map.of("warehouse", "mem://warehouse"));
  }

  /** An in-memory catalog whose next table commit can be made to fail with a given exception. */
  static final class FaultyCatalog extends InMemoryCatalog {
    final AtomicReference<RuntimeException> nextCommit = new AtomicReference<>();

    @Override
    protected TableOperations newTableOps(TableIdentifier id) {
      TableOperations ops = super.newTableOps(id);
      return new TableOperations() {
        @Override
        public TableMetadata current() {
          return ops.current();
        }

        @Override
        public TableMetadata refresh() {
          return ops.refresh();
        }

        @Override
        public void commit(TableMetadata base, TableMetadata metadata) {
          RuntimeException failure = nextCommit.getAndSet(null);
          if (failure != null) {
            throw failure;
          }
          ops.commit(base, metadata);
        }

        @Override
        public FileIO io() {
          return ops.io();
        }

        @Override
        public String metadataFileLocation(String fileName) {
          return ops.metadataFileLocation(fileName);
        }

        @Override
        public LocationProvider locationProvider() {
          return ops.locationProvider();
        }
      };
    }
  }

  private IcebergSink sink(SinkSpec.Mode mode) {
    return sink(mode, 1000);
  }

  private IcebergSink sink(SinkSpec.Mode mode, int maxSnapshots) {
    SinkSpec spec = new SinkSpec(SinkSpec.Format.ICEBERG, "it.t", mode,
        mode == SinkSpec.Mode.UPSERT ? List.of("k") : List.of(), null);
    return new IcebergSink(catalog, spec, "mem://stage", maxSnapshots);
  }

  private static StageRows kv(Object... pairs) {
    List<InternalRow> rows = new ArrayList<>();
    for (int i = 0; i < pairs.length; i += 2) {
      rows.add(new GenericInternalRow(new Object[] {UTF8String.fromString((String) pairs[i]), pairs[i + 1]}));
    }
    return new StageRows(KV, rows);
  }

  private static PendingPublish stage(IcebergSink sink, long seq, StageRows rows) {
    String txnId = "txn-" + seq;
    StagedOutput staged = sink.stage(txnId, rows);
    return new PendingPublish(new CommitTag(APP, seq, txnId, "test#" + seq), staged.ref());
  }

  private Map<String, Long> rows() throws IOException {
    Table table = catalog.loadTable(TableIdentifier.of("it", "t"));
    Map<String, Long> out = new HashMap<>();
    List<String> keys = new ArrayList<>();
    try (CloseableIterable<Record> records = IcebergGenerics.read(table).build()) {
      for (Record record : records) {
        keys.add((String) record.getField("k"));
        out.merge((String) record.getField("k"), (Long) record.getField("v"), Long::sum);
      }
    }
    assertThat(keys).as("one row per key").doesNotHaveDuplicates();
    return out;
  }

  /** Compaction (every data file rewritten) and then expiry of every snapshot but the current. */
  private void compactAndExpire() throws IOException {
    Table table = catalog.loadTable(TableIdentifier.of("it", "t"));
    List<DataFile> files = new ArrayList<>();
    try (CloseableIterable<FileScanTask> tasks = table.newScan().planFiles()) {
      tasks.forEach(task -> files.add(task.file()));
    }
    for (DataFile file : files) {
      // as a compaction does: the rewritten file keeps its data sequence number, so later deletes still apply
      table.newRewrite().validateFromSnapshot(table.currentSnapshot().snapshotId())
          .dataSequenceNumber(file.dataSequenceNumber())
          .deleteFile(file).addFile(DataFiles.builder(table.spec()).copy(file).build()).commit();
    }
    table.expireSnapshots().expireOlderThan(System.currentTimeMillis() + 1).retainLast(1).cleanExpiredFiles(false)
        .commit();
    table.refresh();
    assertThat(table.snapshots()).hasSize(1);
    assertThat(table.currentSnapshot().summary()).doesNotContainKey(CommitTag.APP);
  }

  @Test
  void aRepublishAfterCompactionAndSnapshotExpiryDoesNotAppendAgain() throws IOException {
    IcebergSink first = sink(SinkSpec.Mode.APPEND);
    PendingPublish one = stage(first, 1, kv("a", 1L, "b", 2L));
    PendingPublish two = stage(first, 2, kv("c", 3L));
    assertThat(first.publish(List.of(one, two))).containsExactly(1L, 2L);

    compactAndExpire();
    // another container rolls the same commits forward again (it read an older publication watermark)
    IcebergSink second = sink(SinkSpec.Mode.APPEND);

    assertThat(second.isPublished(APP, 2)).isTrue();
    assertThat(second.publish(List.of(one, two))).isEmpty();
    assertThat(rows()).containsOnly(Map.entry("a", 1L), Map.entry("b", 2L), Map.entry("c", 3L));
    PendingPublish three = stage(second, 3, kv("d", 4L));
    assertThat(second.publish(List.of(two, three))).containsExactly(3L);
    assertThat(rows()).hasSize(4);
  }

  @Test
  void anUpsertRepublishAfterCompactionAndSnapshotExpiryDoesNotApplyAgain() throws IOException {
    IcebergSink first = sink(SinkSpec.Mode.UPSERT);
    PendingPublish one = stage(first, 1, kv("a", 1L));
    PendingPublish two = stage(first, 2, kv("a", 2L));
    assertThat(first.publish(List.of(one, two))).containsExactly(1L, 2L);

    compactAndExpire();
    IcebergSink second = sink(SinkSpec.Mode.UPSERT);

    assertThat(second.publish(List.of(one))).isEmpty();
    assertThat(rows()).containsOnly(Map.entry("a", 2L));
  }

  @Test
  void anUpsertRefusedForAnotherReasonThanAlreadyPublishedFailsAndIsPublishedLater() throws IOException {
    IcebergSink sink = sink(SinkSpec.Mode.UPSERT);
    PendingPublish one = stage(sink, 1, kv("a", 1L));
    catalog.nextCommit.set(new ValidationException("Found conflicting files (injected)"));

    assertThatThrownBy(() -> sink.publish(List.of(one))).isInstanceOf(ValidationException.class)
        .hasMessageContaining("injected");
    assertThat(sink.isPublished(APP, 1)).isFalse();
    assertThat(sink.publish(List.of(one))).containsExactly(1L);
    assertThat(rows()).containsOnly(Map.entry("a", 1L));
  }

  /**
   * A publish that leaves more than SPINDRIFT_ICEBERG_MAX_SNAPSHOTS snapshots expires the oldest: the history stays
   * bounded at a commit per publish, appends and upserts land every row once, and every seq, its snapshot expired or
   * not, is still seen as published.
   */
  @ParameterizedTest
  @EnumSource(SinkSpec.Mode.class)
  void aPublishKeepsTheSnapshotsBoundedAndEveryCommitOnce(SinkSpec.Mode mode) throws IOException {
    IcebergSink sink = sink(mode, 10);
    List<PendingPublish> all = new ArrayList<>();
    for (long seq = 1; seq <= 30; seq++) {
      // each commit adds a key, and either another (append) or sets key "a" to its seq (upsert)
      StageRows rows = mode == SinkSpec.Mode.UPSERT ? kv("a", seq, "k" + seq, seq) : kv("m" + seq, seq, "k" + seq, seq);
      all.add(stage(sink, seq, rows));
      assertThat(sink.publish(List.copyOf(all))).containsExactly(seq);
      Table table = catalog.loadTable(TableIdentifier.of("it", "t"));
      assertThat(table.snapshots()).as("snapshots after seq %s", seq).hasSizeLessThanOrEqualTo(10);
    }

    IcebergSink fresh = sink(mode, 10);
    assertThat(fresh.publish(all)).isEmpty();
    for (long seq = 1; seq <= 30; seq++) {
      assertThat(fresh.isPublished(APP, seq)).isTrue();
    }
    Map<String, Long> rows = rows();
    assertThat(rows).hasSize(mode == SinkSpec.Mode.UPSERT ? 31 : 60).containsEntry("k17", 17L);
    if (mode == SinkSpec.Mode.UPSERT) {
      assertThat(rows).containsEntry("a", 30L);
    } else {
      assertThat(rows).containsEntry("m30", 30L);
    }
  }
}
