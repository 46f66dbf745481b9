package io.spindrift.it;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.spindrift.examples.ClickstreamGenerator;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;

/** Builds Kinesis events shaped exactly like the ones Lambda sends (see AWS's sample event), for direct invokes. */
final class KinesisEvents {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final BigInteger BASE = new BigInteger("49590338271490256608559692538361571095921575989136588898");

  private KinesisEvents() {}

  /** One record per payload, with sequence numbers BASE + first, BASE + first + 1, … */
  static String event(String stream, String shardId, long first, List<byte[]> payloads) {
    ObjectNode event = JSON.createObjectNode();
    ArrayNode records = event.putArray("Records");
    for (int i = 0; i < payloads.size(); i++) {
      String sequence = BASE.add(BigInteger.valueOf(first + i)).toString();
      ObjectNode kinesis = JSON.createObjectNode();
      kinesis.put("kinesisSchemaVersion", "1.0");
      kinesis.put("partitionKey", "pk-" + i);
      kinesis.put("sequenceNumber", sequence);
      kinesis.put("data", Base64.getEncoder().encodeToString(payloads.get(i)));
      kinesis.put("approximateArrivalTimestamp", new BigDecimal("1795390000.123"));
      ObjectNode record = records.addObject();
      record.set("kinesis", kinesis);
      record.put("eventSource", "aws:kinesis");
      record.put("eventVersion", "1.0");
      record.put("eventID", shardId + ":" + sequence);
      record.put("eventName", "aws:kinesis:record");
      record.put("invokeIdentityArn", "arn:aws:iam::123456789012:role/lambda-role");
      record.put("awsRegion", "us-east-1");
      record.put("eventSourceARN", "arn:aws:kinesis:us-east-1:123456789012:stream/" + stream);
    }
    return event.toString();
  }

  static String sequence(long offset) {
    return BASE.add(BigInteger.valueOf(offset)).toString();
  }

  /** Clickstream payloads; {@code malformed} of them (every k-th) are cut short. */
  static List<byte[]> clicks(int count, long seed) {
    ClickstreamGenerator generator = new ClickstreamGenerator(seed, 0, 1_795_390_000_000L + seed * 1_000_000);
    List<byte[]> out = new ArrayList<>();
    for (int i = 0; i < count; i++) {
      out.add(generator.next().json());
    }
    return out;
  }
}
