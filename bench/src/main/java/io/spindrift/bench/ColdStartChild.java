package io.spindrift.bench;

import com.amazonaws.services.lambda.runtime.events.KinesisEvent;
import com.amazonaws.services.lambda.runtime.events.StreamsEventResponse;
import io.spindrift.config.SpindriftConfig;
import io.spindrift.handler.KinesisHandler;
import io.spindrift.local.mapping.InProcessInvoker;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.execution.streaming.MemoryStream;
import org.apache.spark.sql.streaming.Trigger;

/**
 * The process {@link ColdStart} starts: a new JVM that commits one batch and prints
 * {@code BENCH-COMMITTED <json>} the moment it is in the table. Modes:
 * {@code spindrift <event.json>} (the Lambda path: {@code new KinesisHandler()}, configured from SPINDRIFT_*
 * environment variables) and {@code plain <payloads.jsonl> <table>} (a SparkSession with the runtime's
 * settings and one AvailableNow query into Iceberg).
 */
public final class ColdStartChild {
  static final String MARKER = "BENCH-COMMITTED ";

  private ColdStartChild() {}

  public static void main(String[] args) throws Exception {
    long mainAt = System.currentTimeMillis();
    long jvmStart = ManagementFactory.getRuntimeMXBean().getStartTime();
    long sessionMs = switch (args[0]) {
      case "spindrift" -> spindrift(Path.of(args[1]));
      case "plain" -> plain(Path.of(args[1]), args[2]);
      default -> throw new IllegalArgumentException("Invalid mode: " + args[0] + " (spindrift or plain)");
    };
    long done = System.currentTimeMillis();
    System.out.println(MARKER + "{\"jvmToMainMs\":" + (mainAt - jvmStart) + ",\"mainToCommittedMs\":" + (done - mainAt)
        + ",\"sessionMs\":" + sessionMs + "}");
    System.out.flush();
    System.exit(0);
  }

  /** Returns -1: the runtime builds its SparkSession inside the first invocation (its log line has the split). */
  private static long spindrift(Path eventFile) throws Exception {
    String event = Files.readString(eventFile);
    InProcessInvoker<KinesisEvent, StreamsEventResponse> invoker =
        new InProcessInvoker<>(new KinesisHandler(), KinesisEvent.class, StreamsEventResponse.class, 1);
    String response = invoker.invoke(event);
    if (!response.replace(" ", "").equals("{\"batchItemFailures\":[]}")) {
      throw new IllegalStateException("The handler reported failures: " + response);
    }
    return -1;
  }

  /** Returns the milliseconds spent creating the SparkSession. */
  private static long plain(Path payloadFile, String table) throws Exception {
    List<byte[]> payloads = Files.readAllLines(payloadFile).stream().map(String::getBytes).toList();
    long start = System.currentTimeMillis();
    SparkSession spark = PlainClickstream.session(SpindriftConfig.fromEnvironment());
    long sessionMs = System.currentTimeMillis() - start;
    MemoryStream<byte[]> source = PlainClickstream.source(spark,
        PlainClickstream.partitionsFor(payloads.size(), spark.sparkContext().defaultParallelism()));
    PlainClickstream.add(source, payloads);
    Path checkpoint = Files.createTempDirectory("bench-cold-checkpoint-");
    PlainClickstream.start(spark, PlainClickstream.transform(source.toDF()).writeStream()
        .format("iceberg")
        .outputMode("append")
        .trigger(Trigger.AvailableNow())
        .option("checkpointLocation", checkpoint.toString()), table)
        .awaitTermination();
    return sessionMs;
  }
}
