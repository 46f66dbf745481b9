package io.spindrift.sink.hudi;

import static org.assertj.core.api.Assertions.assertThat;

import io.spindrift.sink.SinkSpec;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.BiConsumer;
import org.apache.avro.Schema;
import org.apache.avro.SchemaBuilder;
import org.apache.hudi.client.WriteStatus;
import org.apache.hudi.common.model.HoodieCommitMetadata;
import org.apache.hudi.common.model.HoodieRecord;
import org.apache.hudi.common.model.HoodieTableType;
import org.apache.hudi.common.table.HoodieTableMetaClient;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * When the job's table is cleaned and archived: due on a container's first commit and every
 * {@link WriteOptions#CLEAN_EVERY} commits after it, left for the upkeep after the publication, and run by a commit
 * when no upkeep ran them for {@link WriteOptions#SERVICES_LEFT_COMMITS} commits. A rejects table cleans before
 * its commit, never after it.
 */
class WarmWriteClientTest {
  private static final Schema AVRO = SchemaBuilder.record("kv").fields().requiredString("k").endRecord();

  /** Records the table services it is asked to run. */
  private static final class Recording implements HudiWriter {
    final List<String> calls = new ArrayList<>();
    boolean clusteringLeft;

    @Override
    public String startCommit() {
      return "1";
    }

    @Override
    public List<WriteStatus> write(String instant, List<HoodieRecord<?>> records, boolean upsert) {
      return List.of();
    }

    @Override
    public boolean commit(String instant, List<WriteStatus> written, Map<String, String> metadata,
        String actionType, BiConsumer<HoodieTableMetaClient, HoodieCommitMetadata> check) {
      return true;
    }

    @Override
    public void abandon(String instant) {}

    @Override
    public void clean() {
      calls.add("clean");
    }

    @Override
    public void archive() {
      calls.add("archive");
    }

    @Override
    public boolean servicesLeft() {
      return clusteringLeft;
    }

    @Override
    public void runServicesLeft() {
      if (clusteringLeft) {
        calls.add("cluster");
        clusteringLeft = false;
      }
    }

    @Override
    public void sweep() {
      calls.add("sweep");
    }

    @Override
    public void close() {}
  }

  @TempDir
  Path dir;
  private final Recording writer = new Recording();

  /** The sink's warm client of a table in {@code role}, its writer built (as the first publish builds it). */
  private WarmWriteClient client(WriteOptions.Role role) {
    AwsSettings aws = new AwsSettings(Map.of(), "us-east-1", "", "", "");
    HudiSettings settings = new HudiSettings(aws, HoodieTableType.COPY_ON_WRITE, false, "locks", "leases", 0,
        HudiSettings.WriteClient.JAVA, new HudiSettings.Clustering(10, 96L << 20, 128L << 20));
    WriteOptions options = new WriteOptions(SinkSpec.hudi("ns.t"), HoodieTableType.COPY_ON_WRITE,
        dir.toUri().toString(), settings);
    WarmWriteClient client = new WarmWriteClient(options, role, config -> writer);
    assertThat(client.forSchema(AVRO)).isSameAs(writer);
    return client;
  }

  @Test
  void theFirstCommitsCleanIsLeftForTheUpkeepWhichRunsIt() {
    WarmWriteClient client = client(WriteOptions.Role.TABLE);

    client.committed();
    assertThat(writer.calls).as("left").isEmpty();
    assertThat(client.servicesDue()).isTrue();

    client.runServices();
    assertThat(writer.calls).containsExactly("clean", "archive");
    assertThat(client.servicesDue()).isFalse();

    for (int i = 1; i < WriteOptions.CLEAN_EVERY; i++) {
      client.committed();
      assertThat(client.servicesDue()).as("commit %d since the clean", i).isFalse();
    }
    client.committed();
    assertThat(client.servicesDue()).as("after CLEAN_EVERY commits").isTrue();
    assertThat(writer.calls).hasSize(2);
  }

  @Test
  void theCommitThatFindsTheCleanLeftForSoManyCommitsRunsItItself() {
    WarmWriteClient client = client(WriteOptions.Role.TABLE);

    for (int i = 1; i < WriteOptions.SERVICES_LEFT_COMMITS; i++) {
      client.committed(); // no upkeep ran (or it found the lease taken)
      assertThat(writer.calls).as("commit %d", i).isEmpty();
      assertThat(client.servicesDue()).isTrue();
    }
    client.committed();
    assertThat(writer.calls).containsExactly("clean", "archive");
    assertThat(client.servicesDue()).isFalse();
  }

  @Test
  void theUpkeepRunsTheServicesTheWriterLeftAndSweeps() {
    WarmWriteClient client = client(WriteOptions.Role.TABLE);
    client.committed();
    client.runServices();
    writer.calls.clear();

    writer.clusteringLeft = true;
    assertThat(client.servicesDue()).isTrue();
    client.runServices();
    client.sweep();
    assertThat(writer.calls).containsExactly("cluster", "sweep");
    assertThat(client.servicesDue()).isFalse();
  }

  @Test
  void aRejectsTableCleansBeforeItsCommitAndLeavesNothingForAfter() {
    WarmWriteClient client = client(WriteOptions.Role.REJECTS);

    client.servicesBeforeCommit();
    client.committed();
    assertThat(writer.calls).containsExactly("clean", "archive");
    assertThat(client.servicesDue()).isFalse();
  }
}
