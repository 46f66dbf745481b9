package io.spindrift.bench;

import io.spindrift.examples.ClickstreamGenerator;
import java.math.BigInteger;
import java.util.Base64;
import java.util.List;
import java.util.Locale;

/**
 * Builds Kinesis events as the Lambda service sends them (the JSON {@code aws-lambda-java-serialization}
 * reads), for one shard of one stream. Sequence numbers only grow across every event built, so no invocation
 * of the benchmark is ever de-duplicated against an earlier one.
 */
public final class KinesisEvents {
  private static final BigInteger FIRST = new BigInteger("49590338271490256608559692538361571095921575989136588898");
  private final String stream;
  private final String shardId;
  private final String region;
  private BigInteger next = FIRST;

  public KinesisEvents(String stream, String shardId, String region) {
    this.stream = stream;
    this.shardId = shardId;
    this.region = region;
  }

  /** One event holding {@code batch}, with fresh sequence numbers. */
  public synchronized String event(List<ClickstreamGenerator.Event> batch) {
    StringBuilder json = new StringBuilder(batch.size() * 1100 + 32).append("{\"Records\":[");
    String arn = "arn:aws:kinesis:" + region + ":000000000000:stream/" + stream;
    long arrivalMs = System.currentTimeMillis();
    for (int i = 0; i < batch.size(); i++) {
      ClickstreamGenerator.Event event = batch.get(i);
      String sequence = next.toString();
      next = next.add(BigInteger.ONE);
      if (i > 0) {
        json.append(',');
      }
      json.append("{\"kinesis\":{\"kinesisSchemaVersion\":\"1.0\",\"partitionKey\":\"").append(event.key())
          .append("\",\"sequenceNumber\":\"").append(sequence)
          .append("\",\"data\":\"").append(Base64.getEncoder().encodeToString(event.json()))
          .append("\",\"approximateArrivalTimestamp\":").append(String.format(Locale.ROOT, "%.3f", arrivalMs / 1000.0))
          .append("},\"eventSource\":\"aws:kinesis\",\"eventVersion\":\"1.0\",\"eventID\":\"").append(shardId)
          .append(':').append(sequence)
          .append("\",\"eventName\":\"aws:kinesis:record\"")
          .append(",\"invokeIdentityArn\":\"arn:aws:iam::000000000000:role/spindrift-bench\"")
          .append(",\"awsRegion\":\"").append(region).append("\",\"eventSourceARN\":\"").append(arn).append("\"}");
    }
    return json.append("]}").toString();
  }
}
