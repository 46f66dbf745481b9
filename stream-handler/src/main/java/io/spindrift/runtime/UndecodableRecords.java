package io.spindrift.runtime;

import io.spindrift.commit.LogSnapshot;
import io.spindrift.event.Batch;
import io.spindrift.event.SourceRecord;
import io.spindrift.event.UndecodableRecord;
import io.spindrift.protocol.MicroBatch;
import io.spindrift.sink.Sink;
import io.spindrift.sink.StageRows;
import io.spindrift.sink.StagedOutput;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.spark.sql.catalyst.InternalRow;
import org.apache.spark.sql.catalyst.expressions.GenericInternalRow;
import org.apache.spark.unsafe.types.UTF8String;

/**
 * Sends the records the decoder could not read ({@link UndecodableRecord}: a corrupt KPL aggregate) to the rejects
 * table, in the batch's own commit: the rest of the batch runs through {@code delegate} (the job, fanned out or
 * not), and these are staged as rejects beside the job's (stage id {@code <txnId>-undecodable}) with their lane,
 * position, reason and raw bytes. Their positions stay in the batch, so the commit's lane ranges cover them and a
 * retry finds them committed (I2); a corrupt record never fails the batch.
 */
final class UndecodableRecords implements MicroBatch {
  private final MicroBatch delegate;
  private final Sink rejects;

  UndecodableRecords(MicroBatch delegate, Sink rejects) {
    this.delegate = delegate;
    this.rejects = rejects;
  }

  @Override
  public Result run(Batch fresh, String txnId, LogSnapshot snapshot, Map<String, Long> timings) {
    List<SourceRecord> readable = new ArrayList<>(fresh.size());
    List<InternalRow> rows = new ArrayList<>();
    long nowMicros = System.currentTimeMillis() * 1000;
    for (SourceRecord record : fresh.records()) {
      if (record instanceof UndecodableRecord undecodable) {
        rows.add(new GenericInternalRow(new Object[] {UTF8String.fromString(record.lane()),
            UTF8String.fromString(record.position()), UTF8String.fromString(undecodable.reason()),
            undecodable.payload(), nowMicros}));
      } else {
        readable.add(record);
      }
    }
    if (rows.isEmpty()) {
      return delegate.run(fresh, txnId, snapshot, timings);
    }
    Result result = delegate.run(new Batch(fresh.kind(), readable), txnId, snapshot, timings);
    StagedOutput undecodable = rejects.stage(txnId + "-undecodable", new StageRows(OutputSplit.REJECTS_SCHEMA, rows));
    return new Result(result.table(), StagedOutput.combine(List.of(result.rejects(), undecodable)), result.changes(),
        result.checkpoint(), result.run());
  }

  @Override
  public void committed(Result result, long seq) {
    delegate.committed(result, seq);
  }

  @Override
  public boolean isStateful() {
    return delegate.isStateful();
  }

  @Override
  public void close() {
    delegate.close();
  }
}
