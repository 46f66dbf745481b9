package io.spindrift.registry;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.avro.Schema;
import org.apache.avro.SchemaNormalization;
import org.apache.avro.generic.GenericDatumReader;
import org.apache.avro.generic.GenericDatumWriter;
import org.apache.avro.io.BinaryEncoder;
import org.apache.avro.io.DecoderFactory;
import org.apache.avro.io.EncoderFactory;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.api.java.UDF1;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;

/**
 * The per-row step before Spark's {@code from_avro}: unwraps a payload's registry framing, fetches the writer
 * schema its id names ({@link WriterSchemas}, once per container) and returns the record encoded with the job's
 * reader schema, ready for {@code from_avro(…, readerSchema)}. A writer schema with the reader's canonical form
 * passes its bytes through untouched; another one is read with Avro schema resolution (writer against reader: a
 * new optional field is skipped, a field the writer lacks takes the reader's default) and written again. A payload
 * that cannot be read returns no bytes and the reason, naming the schema id.
 *
 * <p>The bytes returned are those of {@link #envelope} the reader schema: a {@code true} flag, then the record.
 * Spark's {@code from_avro} in its permissive mode answers a record it cannot decode with a struct of nulls, which
 * a record whose fields are all null would also give; a null flag tells the two apart.
 */
final class AvroPayloadDecoder implements UDF1<byte[], Row> {
  /** {@code avro}: the record in the reader schema, flagged ({@link #envelope}); {@code schema}: the writer schema's id; {@code error}. */
  static final StructType RESULT = new StructType()
      .add("avro", DataTypes.BinaryType)
      .add("schema", DataTypes.StringType)
      .add("error", DataTypes.StringType);

  private final String readerSchema;
  private final RegistrySettings settings;
  private transient Schema reader;
  private transient long readerFingerprint;
  private transient Map<SchemaRef, Resolution> resolutions;

  AvroPayloadDecoder(String readerSchema, RegistrySettings settings) {
    this.readerSchema = readerSchema;
    this.settings = settings;
  }

  @Override
  public Row call(byte[] payload) {
    if (payload == null || payload.length == 0) {
      return null;
    }
    RegistryFraming.Framed framed;
    try {
      framed = RegistryFraming.parse(payload);
    } catch (FramingException e) {
      return RowFactory.create(null, null, e.getMessage());
    }
    SchemaRef ref = framed.schema();
    try {
      return RowFactory.create(flagged(resolution(ref).toReader(framed.body())), ref.toString(), null);
    } catch (SchemaUnavailableException e) {
      return RowFactory.create(null, ref.toString(), e.getMessage());
    } catch (IOException | RuntimeException e) {
      return RowFactory.create(null, ref.toString(), ref + ": the payload does not decode as Avro of that schema ("
          + e.getMessage() + ")");
    }
  }

  /**
   * Returns the schema {@code from_avro} reads: a record of a boolean {@code ok} (always true when decoded) and
   * {@code value}, the reader's record.
   *
   * @throws IllegalArgumentException if the reader schema is not a record
   */
  static String envelope(Schema reader) {
    if (reader.getType() != Schema.Type.RECORD) {
      throw new IllegalArgumentException("An Avro reader schema must be a record, not " + reader.getType());
    }
    return "{\"type\":\"record\",\"name\":\"SpindriftDecoded\",\"namespace\":\"io.spindrift.registry\","
        + "\"fields\":[{\"name\":\"ok\",\"type\":\"boolean\"},{\"name\":\"value\",\"type\":" + reader + "}]}";
  }

  /** The record behind {@link #envelope}'s flag: Avro encodes {@code true} as the byte 1. */
  private static byte[] flagged(byte[] record) {
    byte[] out = new byte[record.length + 1];
    out[0] = 1;
    System.arraycopy(record, 0, out, 1, record.length);
    return out;
  }

  private Resolution resolution(SchemaRef ref) {
    if (reader == null) {
      reader = new Schema.Parser().parse(readerSchema);
      readerFingerprint = SchemaNormalization.parsingFingerprint64(reader);
      resolutions = new ConcurrentHashMap<>();
    }
    Resolution known = resolutions.get(ref);
    if (known != null) {
      return known;
    }
    RegisteredSchema registered = WriterSchemas.of(settings).fetch(ref);
    if (!"AVRO".equalsIgnoreCase(registered.format())) {
      throw new SchemaUnavailableException(ref + ": registered as " + registered.format() + ", not Avro");
    }
    Schema writer;
    try {
      writer = new Schema.Parser().parse(registered.text());
    } catch (RuntimeException e) {
      throw new SchemaUnavailableException(ref + ": the registered schema is not valid Avro (" + e.getMessage() + ")");
    }
    Resolution resolution = SchemaNormalization.parsingFingerprint64(writer) == readerFingerprint
        ? new Resolution(null, null) : new Resolution(new GenericDatumReader<>(writer, reader),
            new GenericDatumWriter<>(reader));
    resolutions.put(ref, resolution);
    return resolution;
  }

  /** How a writer's records become the reader's: as they are, or read with resolution and written again. */
  private record Resolution(GenericDatumReader<Object> read, GenericDatumWriter<Object> write) {
    byte[] toReader(byte[] body) throws IOException {
      if (read == null) {
        return body;
      }
      Object record = read.read(null, DecoderFactory.get().binaryDecoder(body, null));
      ByteArrayOutputStream out = new ByteArrayOutputStream(body.length + 16);
      BinaryEncoder encoder = EncoderFactory.get().binaryEncoder(out, null);
      write.write(record, encoder);
      encoder.flush();
      return out.toByteArray();
    }
  }
}
