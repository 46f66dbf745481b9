package io.spindrift.registry;

import com.google.protobuf.DescriptorProtos.FileDescriptorProto;
import com.google.protobuf.DescriptorProtos.FileDescriptorSet;
import com.google.protobuf.Descriptors.Descriptor;
import com.google.protobuf.Descriptors.DescriptorValidationException;
import com.google.protobuf.Descriptors.FileDescriptor;
import com.google.protobuf.DynamicMessage;
import com.google.protobuf.InvalidProtocolBufferException;
import java.util.HashMap;
import java.util.Map;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.api.java.UDF1;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;

/**
 * Decodes Protobuf payloads behind a registry framing into rows ({@link ProtobufRows}): unwraps the framing (and
 * the message indexes Confluent's and Glue's serializers put before the message), checks that the registry serves the writer schema the id names (a Protobuf schema;
 * fetched once per container by {@link WriterSchemas}), and parses the message with the job's descriptor, whose
 * own rules skip fields the reader does not know. A payload that cannot be read has a null value and the reason,
 * naming the schema id.
 */
final class ProtobufPayloadDecoder implements UDF1<byte[], Row> {
  private final byte[] descriptorSet;
  private final String messageName;
  private final RegistrySettings settings;
  private transient Descriptor message;

  ProtobufPayloadDecoder(byte[] descriptorSet, String messageName, RegistrySettings settings) {
    this.descriptorSet = descriptorSet;
    this.messageName = messageName;
    this.settings = settings;
  }

  /** {@code value}: the message; {@code schema}: the writer schema's id; {@code error}. */
  StructType resultType() {
    return new StructType()
        .add("value", ProtobufRows.schemaOf(message()))
        .add("schema", DataTypes.StringType)
        .add("error", DataTypes.StringType);
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
      RegisteredSchema writer = WriterSchemas.of(settings).fetch(ref);
      if (!"PROTOBUF".equalsIgnoreCase(writer.format())) {
        return RowFactory.create(null, ref.toString(), ref + ": registered as " + writer.format() + ", not Protobuf");
      }
      int offset = ref instanceof SchemaRef.ConfluentId
          ? RegistryFraming.messageIndexes(ref, framed.body()).messageOffset()
          : RegistryFraming.glueMessageIndex(ref, framed.body()).messageOffset();
      byte[] body = framed.body();
      DynamicMessage parsed = DynamicMessage.parseFrom(message(),
          com.google.protobuf.ByteString.copyFrom(body, offset, body.length - offset));
      return RowFactory.create(ProtobufRows.rowOf(parsed), ref.toString(), null);
    } catch (SchemaUnavailableException | FramingException e) {
      return RowFactory.create(null, ref.toString(), e.getMessage());
    } catch (InvalidProtocolBufferException e) {
      return RowFactory.create(null, ref.toString(), ref + ": the payload does not decode as Protobuf "
          + messageName + " (" + e.getMessage() + ")");
    }
  }

  private Descriptor message() {
    if (message == null) {
      message = find(descriptorSet, messageName);
    }
    return message;
  }

  /**
   * Returns {@code messageName} (a full name, {@code package.Message}) of a serialized {@code FileDescriptorSet}.
   *
   * @throws IllegalArgumentException if the bytes are not a descriptor set, a file's imports are missing from it,
   *     or no file defines the message
   */
  static Descriptor find(byte[] descriptorSet, String messageName) {
    FileDescriptorSet set;
    try {
      set = FileDescriptorSet.parseFrom(descriptorSet);
    } catch (InvalidProtocolBufferException e) {
      throw new IllegalArgumentException("Not a Protobuf descriptor set (protoc --descriptor_set_out): " + e.getMessage());
    }
    Map<String, FileDescriptorProto> protos = new HashMap<>();
    set.getFileList().forEach(file -> protos.put(file.getName(), file));
    Map<String, FileDescriptor> built = new HashMap<>();
    for (FileDescriptorProto file : set.getFileList()) {
      Descriptor found = build(file.getName(), protos, built).findMessageTypeByName(simpleName(file, messageName));
      if (found != null && found.getFullName().equals(messageName)) {
        return found;
      }
    }
    throw new IllegalArgumentException("No message " + messageName + " in the descriptor set (files: "
        + protos.keySet() + "); name it with its package, e.g. shop.Order");
  }

  private static String simpleName(FileDescriptorProto file, String messageName) {
    String prefix = file.getPackage().isEmpty() ? "" : file.getPackage() + ".";
    return messageName.startsWith(prefix) ? messageName.substring(prefix.length()) : messageName;
  }

  private static FileDescriptor build(String name, Map<String, FileDescriptorProto> protos,
      Map<String, FileDescriptor> built) {
    FileDescriptor done = built.get(name);
    if (done != null) {
      return done;
    }
    FileDescriptorProto proto = protos.get(name);
    if (proto == null) {
      throw new IllegalArgumentException("The descriptor set lacks " + name
          + ", which another file imports: build it with protoc --include_imports");
    }
    FileDescriptor[] dependencies = proto.getDependencyList().stream()
        .map(dependency -> build(dependency, protos, built)).toArray(FileDescriptor[]::new);
    try {
      FileDescriptor file = FileDescriptor.buildFrom(proto, dependencies);
      built.put(name, file);
      return file;
    } catch (DescriptorValidationException e) {
      throw new IllegalArgumentException("Invalid descriptor " + name + ": " + e.getMessage());
    }
  }
}
