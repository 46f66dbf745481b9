package io.spindrift.archive;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.spindrift.commit.LaneRange;
import io.spindrift.event.Batch;
import io.spindrift.event.KafkaRecord;
import io.spindrift.event.KinesisRecord;
import io.spindrift.event.SourceKind;
import io.spindrift.event.SourceRecord;
import io.spindrift.event.UndecodableRecord;
import java.io.BufferedReader;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.math.BigInteger;
import java.net.URLDecoder;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.AbstractMap;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.zip.GZIPInputStream;
import java.util.zip.GZIPOutputStream;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.ListObjectsV2Response;
import software.amazon.awssdk.services.s3.model.S3Object;

/**
 * The S3 archive of an app's raw input, so that history outlives the stream's retention and can be replayed.
 *
 * <p>Format (version 1): one object per lane of each batch, at {@code
 * s3://<bucket>/<app>/archive/<lane, URL-encoded>/<first>-<last>.jsonl.gz}, where {@code first} and {@code last} are the
 * batch's lowest and highest positions in the lane, zero-padded to 64 digits so that keys sort by position. The
 * object is gzip-compressed JSON lines, one record per line in position order, with the job's input columns:
 * Kinesis {@code {"v":1,"kind":"KINESIS","stream","shardId","partitionKey","sequenceNumber","arrivalMs","data"}}
 * (a KPL user record adds {@code "subSequenceNumber"} and {@code "explicitHashKey"}; a corrupt aggregate is
 * archived as delivered),
 * Kafka {@code {"v":1,"kind":"KAFKA","topic","partition","offset","timestampMs","timestampType","key","value",
 * "headers":[{"key","value"}]}}; byte fields are base64.
 *
 * <p>Written before the batch commits (an object of a batch that then does not commit holds the same records at the
 * same positions as the batch that does), so a crash never leaves a committed range unarchived; {@link #read}
 * therefore returns each position once, however many objects hold it. Objects are immutable; a lifecycle rule on
 * {@code <app>/archive/} decides how long history is kept.
 */
public final class BatchArchive {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final int POSITION_DIGITS = 64;
  private final S3Client s3;
  private final String bucket;

  public BatchArchive(S3Client s3, String bucket) {
    this.s3 = s3;
    this.bucket = bucket;
  }

  /** Archives {@code batch}'s records for {@code app}, one object per lane; returns the keys written. */
  public List<String> write(String app, Batch batch) {
    Map<String, List<SourceRecord>> byLane = new LinkedHashMap<>();
    batch.records().forEach(record -> byLane.computeIfAbsent(record.lane(), lane -> new ArrayList<>()).add(record));
    List<String> keys = new ArrayList<>();
    byLane.forEach((lane, records) -> {
      records.sort((a, b) -> LaneRange.compare(a.position(), b.position()));
      String key = lanePrefix(app, lane) + pad(records.get(0).position()) + "-"
          + pad(records.get(records.size() - 1).position()) + ".jsonl.gz";
      s3.putObject(b -> b.bucket(bucket).key(key).contentType("application/x-ndjson").contentEncoding("gzip"),
          RequestBody.fromBytes(gzip(records)));
      keys.add(key);
    });
    return keys;
  }

  /** The lanes archived for {@code app}. */
  public List<String> lanes(String app) {
    List<String> lanes = new ArrayList<>();
    String prefix = app + "/archive/";
    String token = null;
    do {
      String page = token;
      ListObjectsV2Response response = s3.listObjectsV2(b -> b.bucket(bucket).prefix(prefix).delimiter("/")
          .continuationToken(page));
      response.commonPrefixes().forEach(p -> lanes.add(URLDecoder.decode(
          p.prefix().substring(prefix.length(), p.prefix().length() - 1), StandardCharsets.UTF_8)));
      token = response.isTruncated() ? response.nextContinuationToken() : null;
    } while (token != null);
    return lanes;
  }

  /**
   * The archived records of {@code lane} after {@code after} (exclusive; null: from the first) up to {@code last}
   * (inclusive; null: to the end), in position order, each position once.
   */
  public List<SourceRecord> read(String app, String lane, String after, String last) {
    List<SourceRecord> out = new ArrayList<>();
    String emitted = after;
    long emittedSub = Long.MAX_VALUE;
    for (S3Object object : objects(app, lane)) {
      String name = object.key().substring(object.key().lastIndexOf('/') + 1);
      String objectLast = name.substring(POSITION_DIGITS + 1, 2 * POSITION_DIGITS + 1);
      String objectFirst = name.substring(0, POSITION_DIGITS);
      if (emitted != null && LaneRange.compare(objectLast, emitted) <= 0) {
        continue;
      }
      if (last != null && LaneRange.compare(objectFirst, last) > 0) {
        break;
      }
      for (SourceRecord record : gunzip(s3.getObjectAsBytes(b -> b.bucket(bucket).key(object.key())).asByteArray())) {
        int order = emitted == null ? 1 : LaneRange.compare(record.position(), emitted);
        // the user records of one KPL aggregate share its position: they follow each other by sub-sequence number
        boolean fresh = order > 0 || order == 0 && subSequence(record) > emittedSub;
        if (fresh && (last == null || LaneRange.compare(record.position(), last) <= 0)) {
          out.add(record);
          emitted = record.position();
          emittedSub = subSequence(record);
        }
      }
    }
    return out;
  }

  /** A KPL user record's sub-sequence number; -1 for a record that was not aggregated. */
  private static long subSequence(SourceRecord record) {
    return record instanceof KinesisRecord kinesis && kinesis.isSubRecord() ? kinesis.subSequenceNumber() : -1;
  }

  private List<S3Object> objects(String app, String lane) {
    List<S3Object> objects = new ArrayList<>();
    String token = null;
    do {
      String page = token;
      ListObjectsV2Response response = s3.listObjectsV2(b -> b.bucket(bucket).prefix(lanePrefix(app, lane))
          .continuationToken(page));
      objects.addAll(response.contents());
      token = response.isTruncated() ? response.nextContinuationToken() : null;
    } while (token != null);
    return objects;
  }

  private static String lanePrefix(String app, String lane) {
    return app + "/archive/" + URLEncoder.encode(lane, StandardCharsets.UTF_8) + "/";
  }

  private static String pad(String position) {
    String digits = new BigInteger(position).toString();
    return "0".repeat(Math.max(0, POSITION_DIGITS - digits.length())) + digits;
  }

  private static byte[] gzip(List<SourceRecord> records) {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    try (Writer out = new OutputStreamWriter(new GZIPOutputStream(bytes), StandardCharsets.UTF_8)) {
      for (SourceRecord record : records) {
        out.write(encode(record).toString());
        out.write('\n');
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return bytes.toByteArray();
  }

  private static List<SourceRecord> gunzip(byte[] object) {
    List<SourceRecord> records = new ArrayList<>();
    try (BufferedReader in = new BufferedReader(new InputStreamReader(
        new GZIPInputStream(new java.io.ByteArrayInputStream(object)), StandardCharsets.UTF_8))) {
      for (String line = in.readLine(); line != null; line = in.readLine()) {
        if (!line.isBlank()) {
          records.add(decode(JSON.readTree(line)));
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return records;
  }

  private static ObjectNode encode(SourceRecord delivered) {
    // a record the decoder could not read is archived as delivered: a replay decodes it (and rejects it) again
    SourceRecord source = delivered instanceof UndecodableRecord undecodable ? undecodable.raw() : delivered;
    ObjectNode node = JSON.createObjectNode();
    node.put("v", 1);
    Base64.Encoder base64 = Base64.getEncoder();
    if (source instanceof KinesisRecord record) {
      node.put("kind", SourceKind.KINESIS.name());
      node.put("stream", record.streamName());
      node.put("shardId", record.shardId());
      node.put("partitionKey", record.partitionKey());
      node.put("sequenceNumber", record.sequenceNumber());
      if (record.isSubRecord()) {
        node.put("subSequenceNumber", record.subSequenceNumber());
        node.put("explicitHashKey", record.explicitHashKey());
      }
      node.put("arrivalMs", record.arrivalMs());
      node.put("data", base64.encodeToString(record.data()));
    } else if (source instanceof KafkaRecord record) {
      node.put("kind", SourceKind.KAFKA.name());
      node.put("topic", record.topic());
      node.put("partition", record.partition());
      node.put("offset", record.offset());
      node.put("timestampMs", record.timestampMs());
      node.put("timestampType", record.timestampType());
      node.put("key", record.key() == null ? null : base64.encodeToString(record.key()));
      node.put("value", record.value() == null ? null : base64.encodeToString(record.value()));
      var headers = node.putArray("headers");
      record.headers().forEach(h -> headers.addObject().put("key", h.getKey())
          .put("value", h.getValue() == null ? null : base64.encodeToString(h.getValue())));
    } else {
      throw new IllegalArgumentException("cannot archive a " + source.getClass().getName());
    }
    return node;
  }

  private static SourceRecord decode(JsonNode node) {
    Base64.Decoder base64 = Base64.getDecoder();
    if (SourceKind.KINESIS.name().equals(node.path("kind").asText())) {
      JsonNode sub = node.path("subSequenceNumber");
      JsonNode hashKey = node.path("explicitHashKey");
      return new KinesisRecord(node.get("stream").asText(), node.get("shardId").asText(),
          node.get("partitionKey").asText(), node.get("sequenceNumber").asText(),
          sub.isNumber() ? sub.asLong() : null, hashKey.isTextual() ? hashKey.asText() : null,
          node.get("arrivalMs").asLong(), base64.decode(node.get("data").asText()));
    }
    List<Map.Entry<String, byte[]>> headers = new ArrayList<>();
    node.path("headers").forEach(h -> headers.add(new AbstractMap.SimpleImmutableEntry<>(h.get("key").asText(),
        h.get("value").isNull() ? null : base64.decode(h.get("value").asText()))));
    return new KafkaRecord(node.get("topic").asText(), node.get("partition").asInt(), node.get("offset").asLong(),
        node.get("timestampMs").asLong(), node.get("timestampType").asInt(),
        node.get("key").isNull() ? null : base64.decode(node.get("key").asText()),
        node.get("value").isNull() ? null : base64.decode(node.get("value").asText()), headers);
  }
}
