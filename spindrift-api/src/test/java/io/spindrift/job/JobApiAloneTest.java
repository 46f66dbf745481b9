package io.spindrift.job;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.StringWriter;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import javax.tools.JavaCompiler;
import javax.tools.JavaFileObject;
import javax.tools.SimpleJavaFileObject;
import javax.tools.ToolProvider;
import org.junit.jupiter.api.Test;

/**
 * A user's job compiles against this module and Spark alone: this module's test class path holds nothing else of
 * Spindrift's (no runtime, no sinks), so a job that compiles here needs nothing more.
 */
class JobApiAloneTest {
  private static final String JOB = """
      package com.example;

      import io.spindrift.job.JobContext;
      import io.spindrift.job.StreamJob;
      import io.spindrift.sink.SinkSpec;
      import org.apache.spark.sql.Dataset;
      import org.apache.spark.sql.Row;
      import org.apache.spark.sql.types.StructType;

      public final class Orders implements StreamJob {
        private static final StructType SCHEMA = new StructType().add("order_id", "string").add("amount", "double");

        public Dataset<Row> transform(Dataset<Row> input, JobContext ctx) {
          return ctx.parseJson(input, SCHEMA, "order_id");
        }

        public SinkSpec sink() {
          return SinkSpec.iceberg("sales.orders").upsert("order_id");
        }
      }
      """;

  @Test
  void aJobCompilesAgainstTheApiAndSparkAlone() throws Exception {
    assertThat(System.getProperty("java.class.path")).doesNotContain("stream-handler").doesNotContain("sinks");
    Path out = Files.createTempDirectory("job-api-");
    JavaCompiler compiler = ToolProvider.getSystemJavaCompiler();
    JavaFileObject source = new SimpleJavaFileObject(URI.create("string:///com/example/Orders.java"),
        JavaFileObject.Kind.SOURCE) {
      @Override
      public CharSequence getCharContent(boolean ignoreEncodingErrors) {
        return JOB;
      }
    };
    StringWriter errors = new StringWriter();
    boolean compiled = compiler.getTask(errors, null, null,
        List.of("-d", out.toString(), "-classpath", System.getProperty("java.class.path")), null, List.of(source))
        .call();
    assertThat(compiled).as(errors.toString()).isTrue();
    assertThat(out.resolve("com/example/Orders.class")).exists();
  }
}
