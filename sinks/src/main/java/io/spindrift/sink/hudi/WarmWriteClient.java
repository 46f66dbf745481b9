package io.spindrift.sink.hudi;

import java.util.function.Function;
import org.apache.avro.Schema;
import org.apache.hudi.config.HoodieWriteConfig;

/**
 * Hudi's write client for one table ({@link HudiWriter}: the Java client by default, the Spark client by
 * {@code SPINDRIFT_HUDI_WRITE_CLIENT}), kept between the publishes of a warm container instead of built per
 * publish: its heartbeat and transaction managers (and, for the Java client, its meta client) live as long as the
 * container; Hudi itself builds a lock provider for every lock it takes, which {@link DynamoDbLockProvider} makes
 * cheap. The client reads the table's timeline afresh for every commit it starts, so commits of other
 * containers are seen. A client is tied to the Avro schema it writes with; a new schema (an added column) gets a
 * new client. A publish that fails {@link #discard}s the client, so nothing a failed write left in it (an
 * inflight instant's heartbeat) outlives that publish, as when every publish had its own client. The job's
 * table is cleaned and archived after a commit's publication (the runtime's upkeep, {@code Sink.afterPublish}); a
 * rejects table before its commit ({@link WriteOptions.Role}).
 */
final class WarmWriteClient {
  private final WriteOptions options;
  private final WriteOptions.Role role;
  private final Function<HoodieWriteConfig, HudiWriter> newWriter;
  private HudiWriter client;
  private String schema;
  /** Commits since this container last cleaned; the first commit cleans. */
  private int sinceClean = WriteOptions.CLEAN_EVERY;
  /**
   * Commits since cleaning and archival came due, left for the upkeep after their publication
   * ({@link #runServices}); the {@link WriteOptions#SERVICES_LEFT_COMMITS}th runs them itself.
   */
  private int cleanLeft;

  /** {@code newWriter} builds a write client from its settings ({@link WriteOptions#publishConfig}). */
  WarmWriteClient(WriteOptions options, WriteOptions.Role role, Function<HoodieWriteConfig, HudiWriter> newWriter) {
    this.options = options;
    this.role = role;
    this.newWriter = newWriter;
  }

  /** The client that writes with {@code avro}: the warm one, or a new one when the schema changed. */
  synchronized HudiWriter forSchema(Schema avro) {
    String wanted = avro.toString();
    if (client != null && !wanted.equals(schema)) {
      discard();
    }
    if (client == null) {
      client = newWriter.apply(options.publishConfig(avro, role));
      schema = wanted;
    }
    return client;
  }

  /**
   * For a rejects table, whose commit waits for its table's: runs Hudi's cleaner and archival once the instant's
   * files are written, before that wait, on the container's first commit and then every
   * {@link WriteOptions#CLEAN_EVERY} commits. Both act only on completed instants older than the one in flight
   * (whose heartbeat is live, so the cleaner never rolls it back). Nothing for the job's table.
   */
  synchronized void servicesBeforeCommit() {
    if (role == WriteOptions.Role.REJECTS && sinceClean >= WriteOptions.CLEAN_EVERY && client != null) {
      client.clean();
      client.archive();
      sinceClean = 0;
    }
  }

  /**
   * Counts a completed commit; for the job's table, Hudi's cleaner (which also rolls back failed writes of dead
   * containers: the LAZY policy) and archival are due on the container's first commit and then every
   * {@link WriteOptions#CLEAN_EVERY} commits: left for the upkeep after the publication ({@link #runServices}), or
   * run here if the upkeeps since they came due did not run them. Hudi's own archival would run after every
   * commit, building the table and reading its timeline to find, nine times in ten, nothing to archive.
   */
  synchronized void committed() {
    sinceClean++;
    if (role != WriteOptions.Role.TABLE || client == null) {
      return;
    }
    if ((cleanLeft > 0 || sinceClean >= WriteOptions.CLEAN_EVERY)
        && ++cleanLeft >= WriteOptions.SERVICES_LEFT_COMMITS) {
      cleanAndArchive();
    }
  }

  /** Whether a table service is due: cleaning and archival, or one the writer left (clustering). */
  synchronized boolean servicesDue() {
    return client != null && (cleanLeft > 0 || client.servicesLeft());
  }

  /** Runs the table services due ({@link #servicesDue}); the caller holds the table's publish lease. */
  synchronized void runServices() {
    if (client == null) {
      return;
    }
    if (cleanLeft > 0) {
      cleanAndArchive();
    }
    client.runServicesLeft();
  }

  /** Deletes what the completed commits left that nothing reads any more ({@link HudiWriter#sweep}). */
  synchronized void sweep() {
    if (client != null) {
      client.sweep();
    }
  }

  private void cleanAndArchive() {
    client.clean();
    client.archive();
    sinceClean = 0;
    cleanLeft = 0;
  }

  /** Closes the client (gives Hudi's lock back, stops heartbeats); the next publish builds a new one. */
  synchronized void discard() {
    if (client != null) {
      try {
        client.close();
      } finally {
        client = null;
        schema = null;
        cleanLeft = 0; // the next client's first commit finds it due again (sinceClean)
      }
    }
  }
}
