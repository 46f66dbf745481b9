package io.spindrift.sink.delta;

import java.util.List;
import java.util.Map;
import scala.Option;
import scala.Tuple2;
import scala.collection.JavaConverters;
import scala.collection.Seq;

/** Java values as the Scala collections and options Delta's actions and operations take. */
final class ScalaValues {
  private ScalaValues() {}

  static <K, V> scala.collection.immutable.Map<K, V> map(Map<K, V> values) {
    scala.collection.immutable.Map<K, V> out = scala.collection.immutable.Map$.MODULE$.empty();
    for (Map.Entry<K, V> entry : values.entrySet()) {
      out = out.$plus(new Tuple2<>(entry.getKey(), entry.getValue()));
    }
    return out;
  }

  static <T> Seq<T> seq(List<T> values) {
    return JavaConverters.asScalaBufferConverter(values).asScala().toList();
  }

  static <T> List<T> list(scala.collection.Seq<T> values) {
    return scala.collection.JavaConverters.seqAsJavaList(values);
  }

  static <K, V> Map<K, V> javaMap(scala.collection.Map<K, V> values) {
    return new java.util.LinkedHashMap<>(JavaConverters.mapAsJavaMap(values));
  }

  static <T> Option<T> none() {
    return Option.empty();
  }

  static <T> Option<T> some(T value) {
    return Option.apply(value);
  }
}
