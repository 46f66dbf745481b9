package io.spindrift.sink.hudi;

import org.apache.avro.Schema;
import org.apache.hudi.client.SparkRDDWriteClient;
import org.apache.hudi.client.common.HoodieSparkEngineContext;
import org.apache.hudi.common.model.OverwriteWithLatestAvroPayload;
import org.apache.spark.api.java.JavaSparkContext;

/**
 * Hudi's Spark write client for one table, kept between the publishes of a warm container instead of built per
 * publish: its lock provider (with its DynamoDB client), heartbeat and transaction managers live as long as the
 * container. The client reads the table's timeline afresh for every commit it starts, so commits of other
 * containers are seen. A client is tied to the Avro schema it writes with; a new schema (an added column) gets a
 * new client. A publish that fails {@link #discard}s the client, so nothing a failed write left in it (an
 * inflight instant's heartbeat) outlives that publish, as when every publish had its own client.
 */
final class WarmWriteClient {
  private final JavaSparkContext jsc;
  private final WriteOptions options;
  private SparkRDDWriteClient<OverwriteWithLatestAvroPayload> client;
  private String schema;
  /** Commits since this container last cleaned; the first commit cleans. */
  private int sinceClean = WriteOptions.CLEAN_EVERY;

  WarmWriteClient(JavaSparkContext jsc, WriteOptions options) {
    this.jsc = jsc;
    this.options = options;
  }

  /** The client that writes with {@code avro}: the warm one, or a new one when the schema changed. */
  synchronized SparkRDDWriteClient<OverwriteWithLatestAvroPayload> forSchema(Schema avro) {
    String wanted = avro.toString();
    if (client != null && !wanted.equals(schema)) {
      discard();
    }
    if (client == null) {
      client = new SparkRDDWriteClient<>(new HoodieSparkEngineContext(jsc), options.publishConfig(avro));
      schema = wanted;
    }
    return client;
  }

  /**
   * Runs Hudi's cleaner (which also rolls back failed writes of dead containers: the LAZY policy) after a commit:
   * on the container's first commit and then every {@link WriteOptions#CLEAN_EVERY} commits.
   */
  synchronized void committed() {
    if (++sinceClean >= WriteOptions.CLEAN_EVERY && client != null) {
      client.clean();
      sinceClean = 0;
    }
  }

  /** Closes the client (gives Hudi's lock back, stops heartbeats); the next publish builds a new one. */
  synchronized void discard() {
    if (client != null) {
      try {
        client.close();
      } finally {
        client = null;
        schema = null;
      }
    }
  }
}
