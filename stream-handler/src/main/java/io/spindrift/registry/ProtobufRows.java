package io.spindrift.registry;

import com.google.protobuf.ByteString;
import com.google.protobuf.Descriptors.Descriptor;
import com.google.protobuf.Descriptors.EnumValueDescriptor;
import com.google.protobuf.Descriptors.FieldDescriptor;
import com.google.protobuf.Message;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;

/**
 * Protobuf messages as Spark rows, in the shapes Spark's own {@code from_protobuf} gives: a message is a struct, a
 * repeated field an array, a map field a map, an enum its value's name, bytes binary, 32-bit integers int (unsigned
 * ones long), 64-bit ones long. A field with presence (a message, {@code optional}, proto2) that is not set is
 * null; a field without presence reads as its default. Recursive messages are refused: a struct cannot nest itself.
 */
final class ProtobufRows {
  private ProtobufRows() {}

  /**
   * Returns the struct type of {@code message}.
   *
   * @throws IllegalArgumentException if the message is recursive
   */
  static StructType schemaOf(Descriptor message) {
    return schemaOf(message, new HashSet<>());
  }

  private static StructType schemaOf(Descriptor message, Set<String> enclosing) {
    if (!enclosing.add(message.getFullName())) {
      throw new IllegalArgumentException("Protobuf message " + message.getFullName()
          + " is recursive: it cannot be read as a Spark struct");
    }
    StructType struct = new StructType();
    for (FieldDescriptor field : message.getFields()) {
      struct = struct.add(field.getName(), typeOf(field, enclosing), true);
    }
    enclosing.remove(message.getFullName());
    return struct;
  }

  private static DataType typeOf(FieldDescriptor field, Set<String> enclosing) {
    if (field.isMapField()) {
      Descriptor entry = field.getMessageType();
      return DataTypes.createMapType(singleType(entry.findFieldByNumber(1), enclosing),
          singleType(entry.findFieldByNumber(2), enclosing), true);
    }
    DataType single = singleType(field, enclosing);
    return field.isRepeated() ? DataTypes.createArrayType(single, true) : single;
  }

  private static DataType singleType(FieldDescriptor field, Set<String> enclosing) {
    return switch (field.getJavaType()) {
      case INT -> field.getType() == FieldDescriptor.Type.UINT32 || field.getType() == FieldDescriptor.Type.FIXED32
          ? DataTypes.LongType : DataTypes.IntegerType;
      case LONG -> DataTypes.LongType;
      case FLOAT -> DataTypes.FloatType;
      case DOUBLE -> DataTypes.DoubleType;
      case BOOLEAN -> DataTypes.BooleanType;
      case STRING, ENUM -> DataTypes.StringType;
      case BYTE_STRING -> DataTypes.BinaryType;
      case MESSAGE -> schemaOf(field.getMessageType(), enclosing);
    };
  }

  /** Returns {@code message} as a row of {@link #schemaOf} its descriptor. */
  static Row rowOf(Message message) {
    List<FieldDescriptor> fields = message.getDescriptorForType().getFields();
    Object[] values = new Object[fields.size()];
    for (int i = 0; i < values.length; i++) {
      FieldDescriptor field = fields.get(i);
      if (field.isMapField()) {
        values[i] = mapOf(message, field);
      } else if (field.isRepeated()) {
        List<Object> items = new ArrayList<>();
        for (int j = 0; j < message.getRepeatedFieldCount(field); j++) {
          items.add(single(field, message.getRepeatedField(field, j)));
        }
        values[i] = items;
      } else if (field.hasPresence() && !message.hasField(field)) {
        values[i] = null;
      } else {
        values[i] = single(field, message.getField(field));
      }
    }
    return RowFactory.create(values);
  }

  private static Map<Object, Object> mapOf(Message message, FieldDescriptor field) {
    Map<Object, Object> map = new LinkedHashMap<>();
    FieldDescriptor key = field.getMessageType().findFieldByNumber(1);
    FieldDescriptor value = field.getMessageType().findFieldByNumber(2);
    for (int j = 0; j < message.getRepeatedFieldCount(field); j++) {
      Message entry = (Message) message.getRepeatedField(field, j);
      map.put(single(key, entry.getField(key)), single(value, entry.getField(value)));
    }
    return map;
  }

  private static Object single(FieldDescriptor field, Object value) {
    return switch (field.getJavaType()) {
      case INT -> field.getType() == FieldDescriptor.Type.UINT32 || field.getType() == FieldDescriptor.Type.FIXED32
          ? Integer.toUnsignedLong((Integer) value) : value;
      case ENUM -> ((EnumValueDescriptor) value).getName();
      case BYTE_STRING -> ((ByteString) value).toByteArray();
      case MESSAGE -> rowOf((Message) value);
      default -> value;
    };
  }
}
