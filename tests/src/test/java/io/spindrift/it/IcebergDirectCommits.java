package io.spindrift.it;

import io.spindrift.sink.CommitTag;
import io.spindrift.sink.PendingPublish;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.List;
import java.util.Map;
import org.apache.iceberg.AppendFiles;
import org.apache.iceberg.DataFile;
import org.apache.iceberg.Snapshot;
import org.apache.iceberg.SnapshotSummary;
import org.apache.iceberg.Table;
import org.apache.iceberg.TableProperties;
import org.apache.iceberg.io.DataWriter;
import org.apache.iceberg.io.OutputFile;
import org.apache.iceberg.parquet.Parquet;
import org.apache.iceberg.relocated.com.google.common.base.Preconditions;
import org.apache.iceberg.spark.SparkSchemaUtil;
import org.apache.iceberg.spark.data.SparkParquetWriters;
import org.apache.iceberg.util.PropertyUtil;
import org.apache.spark.sql.catalyst.InternalRow;
import org.apache.spark.sql.types.StructType;

/**
 * Iceberg commits as the sink's append makes them, without its stage: the rows are written by Iceberg's Parquet
 * writer into the table's data location, and one append commits the file (a fast append until the snapshot lists
 * {@code commit.manifest.min-count-to-merge} manifests, then a merging one, as the sink does) with the
 * {@link CommitTag} in the snapshot summary. The sink also sets the app's {@code spindrift.published-seq.<app>}
 * property in the same transaction; here {@link #finish} sets it once (a property is one entry of the metadata
 * file however often it changes), which spares each commit the transaction's read-back of the manifest list. The
 * table is loaded once from the product's catalog, whose table operations trust their own last commit (no catalog
 * read per commit). Unpartitioned tables only.
 */
final class IcebergDirectCommits implements DirectCommits {
  private final Table table;
  private final StructType type;
  private final String publishedSeqProperty;

  IcebergDirectCommits(Table table, String app) {
    Preconditions.checkArgument(table.spec().isUnpartitioned(), "Invalid table for direct commits (partitioned): %s",
        table.name());
    this.table = table;
    this.type = SparkSchemaUtil.convert(table.schema());
    this.publishedSeqProperty = "spindrift.published-seq." + app;
  }

  @Override
  public void commit(CommitTag tag, List<InternalRow> rows) {
    DataFile file = write(tag.txnId(), rows);
    AppendFiles append = timeToMerge() ? table.newAppend() : table.newFastAppend();
    append.appendFile(file);
    CommitTag.entries(List.of(new PendingPublish(tag, null))).forEach(append::set);
    append.commit();
  }

  @Override
  public void finish(CommitTag last) {
    table.updateProperties().set(publishedSeqProperty, Long.toString(last.seq())).commit();
  }

  private DataFile write(String txnId, List<InternalRow> rows) {
    OutputFile out = table.io().newOutputFile(
        table.locationProvider().newDataLocation(String.format("spindrift-%s-%05d.parquet", txnId, 0)));
    try {
      DataWriter<InternalRow> writer = Parquet.writeData(out).forTable(table)
          .createWriterFunc(messageType -> SparkParquetWriters.buildWriter(type, messageType))
          .withSpec(table.spec())
          .overwrite()
          .build();
      try (writer) {
        rows.forEach(writer::write);
      }
      return writer.toDataFile();
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot write data file " + out.location(), e);
    }
  }

  /** As the sink decides: once the current snapshot lists the table's merge threshold of manifests. */
  private boolean timeToMerge() {
    Snapshot current = table.currentSnapshot();
    if (current == null) {
      return false;
    }
    Map<String, String> summary = current.summary();
    String created = summary.get(SnapshotSummary.CREATED_MANIFESTS_COUNT);
    String kept = summary.get(SnapshotSummary.KEPT_MANIFESTS_COUNT);
    if (created == null || kept == null) {
      return true;
    }
    int threshold = PropertyUtil.propertyAsInt(table.properties(), TableProperties.MANIFEST_MIN_MERGE_COUNT,
        TableProperties.MANIFEST_MIN_MERGE_COUNT_DEFAULT);
    return Integer.parseInt(created) + Integer.parseInt(kept) + 1 >= threshold;
  }
}
