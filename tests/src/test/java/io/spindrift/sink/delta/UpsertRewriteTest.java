package io.spindrift.sink.delta;

import static org.assertj.core.api.Assertions.assertThat;

import io.spindrift.sink.ChangeRows;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SaveMode;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.catalyst.InternalRow;
import org.apache.spark.sql.delta.actions.AddFile;
import org.apache.spark.sql.delta.actions.RemoveFile;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link UpsertRewrite} on local Delta tables written by Delta itself: which files it reads (by partition values and
 * key statistics), the rows it writes back (MERGE's result: later stages win, deletes drop a key, a delete of an
 * absent key inserts nothing, untouched rows kept), and the size limit past which it leaves the upsert to MERGE.
 */
class UpsertRewriteTest {
  private static final StructType TABLE = new StructType().add("id", DataTypes.StringType)
      .add("v", DataTypes.LongType);
  private static final StructType STAGE = new StructType().add("v", DataTypes.LongType)
      .add("id", DataTypes.StringType).add(ChangeRows.COLUMN, DataTypes.BooleanType);
  private static SparkSession spark;

  @TempDir
  Path dir;

  @BeforeAll
  static void spark() {
    spark = LocalDeltaTables.session();
  }

  /** Appends one data file of {@code ids}, each with value {@code v}. */
  private void appendFile(String table, StructType type, List<Row> rows) {
    spark.createDataFrame(rows, type).coalesce(1).write().format("delta").mode(SaveMode.Append).save(table);
  }

  private static List<Row> ids(long v, String... ids) {
    return Stream.of(ids).map(id -> RowFactory.create(id, v)).collect(Collectors.toList());
  }

  /** A stage file of (v, id, delete) changes, as the sink stages upserts: its Parquet files. */
  private List<String> stage(String name, Object[]... changes) {
    List<Row> rows = new ArrayList<>();
    for (Object[] change : changes) {
      rows.add(RowFactory.create(change));
    }
    Path at = dir.resolve("stage").resolve(name);
    spark.createDataFrame(rows, STAGE).coalesce(1).write().parquet(at.toUri().toString());
    try (Stream<Path> files = Files.list(at)) {
      return files.filter(f -> f.toString().endsWith(".parquet")).map(f -> f.toUri().toString()).toList();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static WarmLog warm(String table) {
    return LocalDeltaTables.warm(spark, table, true);
  }

  /** Captured rows as id → v for (id string, v long) rows laid out as {@link #TABLE}. */
  private static Map<String, Long> byId(List<InternalRow> rows) {
    Map<String, Long> out = new TreeMap<>();
    for (InternalRow row : rows) {
      out.put(row.getUTF8String(0).toString(), row.isNullAt(1) ? null : row.getLong(1));
    }
    return out;
  }

  private static List<String> removed(UpsertRewrite.Plan plan) {
    return plan.actions().stream().filter(a -> a instanceof RemoveFile).map(a -> ((RemoveFile) a).path()).toList();
  }

  @Test
  void onlyFilesWhoseKeyStatisticsMayHoldAStagedKeyAreRewrittenWithMergesResult() {
    String table = dir.resolve("upsert").toUri().toString();
    appendFile(table, TABLE, ids(1, "a1", "a2", "a3", "a4", "a5"));
    appendFile(table, TABLE, ids(1, "b1", "b2", "b3", "b4", "b5"));
    WarmLog warm = warm(table);
    String fileA = warm.files().values().stream().map(AddFile::path).filter(path -> {
      return spark.read().parquet(warm.absolute(path)).where("id = 'a1'").count() == 1;
    }).findFirst().orElseThrow();

    List<String> stages = new ArrayList<>();
    stages.addAll(stage("one", new Object[] {20L, "a2", false}, new Object[] {30L, "c1", false},
        new Object[] {40L, "a4", false}));
    stages.addAll(stage("two", new Object[] {21L, "a2", false}, new Object[] {null, "a3", true},
        new Object[] {null, "zz", true}));
    List<InternalRow> written = new ArrayList<>();
    Optional<UpsertRewrite.Plan> plan = new UpsertRewrite(spark, warm, List.of("id"), 256L << 20)
        .plan(stages, rows -> {
          written.addAll(rows);
          return List.of();
        });

    assertThat(plan).isPresent();
    assertThat(removed(plan.get())).as("file b1..b5 cannot hold a2, a3, a4, c1 or zz by its min/max")
        .containsExactly(fileA);
    assertThat(plan.get().removedFiles()).isEqualTo(1);
    assertThat(plan.get().outputRows()).isEqualTo(5);
    assertThat(byId(written)).as("later stage wins; a3 deleted; zz (absent) not inserted; a1, a5 kept")
        .isEqualTo(new TreeMap<>(Map.of("a1", 1L, "a2", 21L, "a4", 40L, "a5", 1L, "c1", 30L)));
  }

  @Test
  void partitionValuesPruneFilesAndComeBackAsColumnsOfTheRewrittenRows() {
    String table = dir.resolve("partitioned").toUri().toString();
    StructType type = new StructType().add("region", DataTypes.StringType).add("id", DataTypes.StringType)
        .add("v", DataTypes.LongType);
    spark.createDataFrame(List.of(RowFactory.create("eu", "k1", 1L), RowFactory.create("eu", "k2", 1L),
            RowFactory.create("us", "k1", 1L), RowFactory.create("us", "k2", 1L)), type)
        .write().format("delta").partitionBy("region").save(table);
    WarmLog warm = warm(table);
    assertThat(warm.files()).hasSize(2);

    StructType stageType = new StructType().add("region", DataTypes.StringType).add("id", DataTypes.StringType)
        .add("v", DataTypes.LongType);
    Path at = dir.resolve("stage").resolve("regions");
    spark.createDataFrame(List.of(RowFactory.create("eu", "k2", 7L)), stageType).coalesce(1).write()
        .parquet(at.toUri().toString());
    List<String> stages;
    try (Stream<Path> files = Files.list(at)) {
      stages = files.filter(f -> f.toString().endsWith(".parquet")).map(f -> f.toUri().toString()).toList();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    List<InternalRow> written = new ArrayList<>();
    UpsertRewrite.Plan plan = new UpsertRewrite(spark, warm, List.of("region", "id"), 256L << 20)
        .plan(stages, rows -> {
          written.addAll(rows);
          return List.of();
        }).orElseThrow();

    assertThat(removed(plan)).hasSize(1).allSatisfy(path -> assertThat(path).startsWith("region=eu/"));
    Map<String, Long> rows = new TreeMap<>();
    for (InternalRow row : written) {
      rows.put(row.getUTF8String(warm.metadata().schema().fieldIndex("region")) + "/"
          + row.getUTF8String(warm.metadata().schema().fieldIndex("id")),
          row.getLong(warm.metadata().schema().fieldIndex("v")));
    }
    assertThat(rows).isEqualTo(new TreeMap<>(Map.of("eu/k1", 1L, "eu/k2", 7L)));
  }

  @Test
  void anUpsertThatWouldRewriteMoreThanTheLimitIsLeftToDeltasMerge() {
    String table = dir.resolve("limit").toUri().toString();
    appendFile(table, TABLE, ids(1, "a1", "a2"));
    WarmLog warm = warm(table);
    long tableBytes = warm.files().values().stream().mapToLong(AddFile::size).sum();
    List<String> stages = stage("limit", new Object[] {2L, "a1", false});
    List<InternalRow> written = new ArrayList<>();

    assertThat(new UpsertRewrite(spark, warm, List.of("id"), tableBytes - 1).plan(stages, rows -> {
      written.addAll(rows);
      return List.of();
    })).isEmpty();
    assertThat(written).as("nothing is written for a refused plan").isEmpty();
    assertThat(new UpsertRewrite(spark, warm, List.of("id"), tableBytes).plan(stages, rows -> {
      written.addAll(rows);
      return List.of();
    })).isPresent();
    assertThat(byId(written)).isEqualTo(Map.of("a1", 2L, "a2", 1L));
  }
}
