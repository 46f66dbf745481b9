package io.spindrift.sink.delta;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.util.ConcurrentModificationException;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SaveMode;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.delta.DeltaLog;
import org.apache.spark.sql.delta.Snapshot;
import org.apache.spark.sql.delta.actions.Action;
import org.apache.spark.sql.delta.actions.AddFile;
import org.apache.spark.sql.delta.actions.SetTransaction;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link WarmLog} against Delta's own writer on a local table: what it loads, what it reads of other writers'
 * commits, how it loses a race on a version and recovers, and when it lets a commit bypass Delta's transaction.
 * Every expectation is checked against a snapshot Delta itself rebuilds.
 */
class WarmLogTest {
  private static SparkSession spark;

  @TempDir
  Path dir;

  @BeforeAll
  static void spark() {
    spark = LocalDeltaTables.session();
  }

  private String table(String name) {
    return dir.resolve(name).toUri().toString();
  }

  private Dataset<Row> rows(String... ids) {
    return spark.createDataset(List.of(ids), org.apache.spark.sql.Encoders.STRING()).toDF("id").coalesce(1);
  }

  private void append(String table, String app, long txnVersion, String... ids) {
    rows(ids).write().format("delta").mode(SaveMode.Append)
        .option("txnAppId", app).option("txnVersion", txnVersion).save(table);
  }

  private static DeltaLog log(String table) {
    // a new DeltaLog checks the active session's catalog
    SparkSession.setActiveSession(spark);
    return DeltaLog.forTable(spark, new org.apache.hadoop.fs.Path(table));
  }

  private static Snapshot fresh(String table) {
    return log(table).update(false, ScalaValues.none(), ScalaValues.none());
  }

  private static Set<String> deltasFiles(WarmLog warm, Snapshot snapshot) {
    return snapshot.allFiles().collectAsList().stream().map(f -> warm.absolute(f.path())).collect(Collectors.toSet());
  }

  @Test
  void loadsVersionTransactionsAndFilesThenReadsOnlyTheCommitsOtherWritersAdd() {
    String table = table("catch_up");
    append(table, "app-a", 4, "a1", "a2");
    append(table, "app-a", 5, "a3");

    WarmLog warm = LocalDeltaTables.warm(spark, table, true);
    assertThat(warm.version()).isEqualTo(1);
    assertThat(warm.txnVersion("app-a")).isEqualTo(5);
    assertThat(warm.txnVersion("app-b")).isEqualTo(-1);
    assertThat(warm.files()).hasSize(2);

    append(table, "app-b", 9, "b1");
    rows("c1", "c2").write().format("delta").mode(SaveMode.Overwrite).save(table);
    assertThat(warm.version()).as("nothing is read before catchUp").isEqualTo(1);

    warm.catchUp();
    Snapshot snapshot = fresh(table);
    assertThat(warm.version()).isEqualTo(snapshot.version()).isEqualTo(3);
    assertThat(warm.txnVersion("app-a")).isEqualTo(5);
    assertThat(warm.txnVersion("app-b")).isEqualTo(9);
    assertThat(warm.files().keySet()).as("the overwrite removed every earlier file")
        .isEqualTo(deltasFiles(warm, snapshot)).hasSize(1);

    warm.catchUp();
    assertThat(warm.version()).as("a second catch-up with nothing new changes nothing").isEqualTo(3);
  }

  @Test
  void aCommitOnAVersionAnotherWriterTookIsALostRaceAndTheNextAttemptCommitsAfterTheWinner() {
    String table = table("race");
    append(table, "app-a", 1, "a1");
    WarmLog warm = LocalDeltaTables.warm(spark, table, false);
    append(table, "app-b", 1, "b1");

    SetTransaction txn = new SetTransaction("app-a", 2L, ScalaValues.some(System.currentTimeMillis()));
    List<Action> actions = List.of(txn);
    List<String> lines = List.of("{\"commitInfo\":{\"operation\":\"STREAMING UPDATE\"}}", txn.json());
    assertThatThrownBy(() -> warm.commit(lines, actions)).isInstanceOf(ConcurrentModificationException.class)
        .hasMessageContaining("Delta version 1");
    assertThat(warm.version()).isZero();
    assertThat(warm.txnVersion("app-a")).as("a lost commit applies nothing").isEqualTo(1);

    warm.catchUpAfterConflict();
    assertThat(warm.version()).isEqualTo(1);
    assertThat(warm.txnVersion("app-b")).isEqualTo(1);
    assertThat(warm.commit(lines, actions)).isEqualTo(2);

    Snapshot snapshot = fresh(table);
    assertThat(snapshot.version()).isEqualTo(2);
    assertThat(snapshot.transactions().get("app-a").get()).isEqualTo(2L);
    assertThat(warm.txnVersion("app-a")).isEqualTo(2);
    assertThat(spark.read().format("delta").load(table).count()).isEqualTo(2);
  }

  @Test
  void aPlainWriterIsRefusedForAppendOnlyRemovalsNonStringPartitionReadsAndMissingTables() {
    String plain = table("plain");
    append(plain, "app", 1, "x");
    assertThat(LocalDeltaTables.warm(spark, plain, false).plainWriter(true, true))
        .isTrue();

    String appendOnly = table("append_only");
    LocalDeltaTables.createWith(spark, appendOnly, Map.of("appendOnly", "true"));
    WarmLog appendOnlyLog = LocalDeltaTables.warm(spark, appendOnly, false);
    assertThat(appendOnlyLog.plainWriter(false, false)).as("appends to an append-only table").isTrue();
    assertThat(appendOnlyLog.plainWriter(true, false)).as("removing rows of an append-only table").isFalse();

    String byDay = table("int_partition");
    spark.sql("SELECT 'x' AS id, 7 AS day").write().format("delta").partitionBy("day").save(byDay);
    WarmLog byDayLog = LocalDeltaTables.warm(spark, byDay, true);
    assertThat(byDayLog.plainWriter(false, false)).isTrue();
    assertThat(byDayLog.plainWriter(true, true)).as("reading back an int partition value").isFalse();

    String missing = table("missing");
    assertThat(LocalDeltaTables.warm(spark, missing, false).plainWriter(false, false))
        .isFalse();
  }

  @Test
  void aCheckpointIsDueOnTheTablesIntervalOrDeltasDefaultOfTen() {
    String defaults = table("checkpoint_default");
    append(defaults, "app", 1, "x");
    WarmLog warm = LocalDeltaTables.warm(spark, defaults, false);
    assertThat(List.of(0L, 5L, 10L, 20L, 21L).stream().filter(warm::checkpointDue)).containsExactly(10L, 20L);

    String every3 = table("checkpoint_3");
    LocalDeltaTables.createWith(spark, every3, Map.of("checkpointInterval", "3"));
    WarmLog three = LocalDeltaTables.warm(spark, every3, false);
    assertThat(List.of(0L, 3L, 4L, 6L, 10L).stream().filter(three::checkpointDue)).containsExactly(3L, 6L);
  }

  @Test
  void absolutePathsResolveRelativeAndUrlEncodedLogPaths() {
    String table = table("paths");
    append(table, "app", 1, "x");
    WarmLog warm = LocalDeltaTables.warm(spark, table, true);
    AddFile file = warm.files().values().iterator().next();
    assertThat(warm.absolute(file.path())).startsWith(new org.apache.hadoop.fs.Path(table).toString() + "/")
        .endsWith(".parquet");
    assertThat(warm.absolute("day=a%20b/part-0.parquet"))
        .isEqualTo(new org.apache.hadoop.fs.Path(table).toString() + "/day=a b/part-0.parquet");
  }
}
