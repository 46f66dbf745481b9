package io.spindrift.it;

import static org.assertj.core.api.Assertions.assertThat;

import io.spindrift.examples.Demo;
import io.spindrift.examples.PageViewCounts;
import io.spindrift.runtime.SpindriftRuntime;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;
import java.util.stream.Stream;
import javax.tools.JavaCompiler;
import javax.tools.ToolProvider;
import org.apache.spark.sql.Row;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * "Try your own job" (issue 18): {@code ./demo.sh --job ... --jar ... --input ...} run in this JVM through
 * {@link Demo#run}, on the shared local stack. A job from a jar built here (not on the class path) and a SQL job
 * from a file land exactly the expected rows; a missing class, a missing jar, a SQL syntax error and a malformed
 * input line each fail with a message naming the problem, and leave nothing running.
 */
class RunYourOwnJobTest {
  private static final String ORDERS_JOB = """
      package com.acme;

      import static org.apache.spark.sql.functions.col;
      import static org.apache.spark.sql.functions.udf;

      import io.spindrift.job.JobContext;
      import io.spindrift.job.StreamJob;
      import io.spindrift.sink.SinkSpec;
      import java.util.Locale;
      import org.apache.spark.sql.Dataset;
      import org.apache.spark.sql.Row;
      import org.apache.spark.sql.api.java.UDF1;
      import org.apache.spark.sql.expressions.UserDefinedFunction;
      import org.apache.spark.sql.types.DataTypes;
      import org.apache.spark.sql.types.StructType;

      public final class OrdersJob implements StreamJob {
        private static final StructType ORDER = new StructType()
            .add("order_id", DataTypes.StringType).add("customer", DataTypes.StringType)
            .add("amount", DataTypes.DoubleType);

        @Override
        public Dataset<Row> transform(Dataset<Row> input, JobContext ctx) {
          // a lambda from this jar runs on Spark's executors: the jar must reach them too
          UserDefinedFunction upper = udf((UDF1<String, String>) s -> s == null ? null : s.toUpperCase(Locale.ROOT),
              DataTypes.StringType);
          return ctx.parseJson(input, ORDER, "order_id")
              .withColumn("customer", upper.apply(col("customer")))
              .withColumn("amount_cents", col("amount").multiply(100).cast("long"));
        }

        @Override
        public SinkSpec sink() {
          return SinkSpec.iceberg("acme.orders");
        }
      }
      """;

  private static final String READINGS_SQL = """
      -- a user's SQL job over Kafka input: doubles each reading, rejects readings without a sensor
      SELECT r.sensor, r.reading * 2 AS doubled, spindrift_lane, spindrift_position, value AS spindrift_payload,
             CASE WHEN r.sensor IS NULL THEN 'no sensor' END AS spindrift_reject
      FROM (
        SELECT from_json(CAST(value AS STRING), 'sensor STRING, reading DOUBLE') AS r,
               value, spindrift_lane, spindrift_position
        FROM events
      )
      """;

  @TempDir
  Path dir;

  @Test
  void javaJobFromAJarOffTheClassPathLandsExactlyItsRows() throws Exception {
    Path jar = compileJar("OrdersJob", ORDERS_JOB);
    Path events = write("orders.jsonl", """
        {"order_id":"o1","customer":"ada","amount":12.5}
        {"order_id":"o2","customer":"bob","amount":3.0}

        {"customer":"eve","amount":1.0}
        {"order_id":"o3","customer":"cy","amount":100.25}
        """);
    String app = TestPipeline.uniqueApp("ownjava");

    Result result = demo("--job", "com.acme.OrdersJob", "--jar", jar.toString(), "--input", events.toString(),
        "--source", "kinesis", "--lanes", "2", "--batch-size", "100", "--app", app, "--table", "it." + app);

    assertThat(result.exit()).as(result.output()).isZero();
    assertThat(result.output()).contains("EXACTLY ONCE", "amount_cents", "missing required field 'order_id'");
    SpindriftRuntime reader = TestPipeline.runtime(app);
    assertThat(rows(reader, "SELECT order_id, customer, amount_cents FROM " + TestPipeline.qualified(reader, "it." + app)
        + " ORDER BY order_id")).containsExactly("o1,ADA,1250", "o2,BOB,300", "o3,CY,10025");
    assertThat(rows(reader, "SELECT error, CAST(payload AS STRING) FROM "
        + TestPipeline.qualified(reader, "it." + app + "_rejects")))
        .containsExactly("missing required field 'order_id',{\"customer\":\"eve\",\"amount\":1.0}");
  }

  @Test
  void sqlJobFromAFileLandsExactlyItsRows() throws Exception {
    Path sql = write("readings.sql", READINGS_SQL);
    Path events = write("readings.jsonl", """
        {"sensor":"a","reading":1.5}
        {"sensor":"b","reading":2}
        {"reading":7}
        {"sensor":"a","reading":4}
        """);
    String app = TestPipeline.uniqueApp("ownsql");

    Result result = demo("--job", "file:" + sql, "--input", events.toString(), "--source", "kafka", "--lanes", "2",
        "--partition-key", "sensor", "--app", app, "--table", "it." + app);

    assertThat(result.exit()).as(result.output()).isZero();
    assertThat(result.output()).contains("EXACTLY ONCE", "doubled", "no sensor");
    SpindriftRuntime reader = TestPipeline.runtime(app);
    assertThat(rows(reader, "SELECT sensor, doubled FROM " + TestPipeline.qualified(reader, "it." + app)
        + " ORDER BY sensor, doubled")).containsExactly("a,3.0", "a,8.0", "b,4.0");
    assertThat(rows(reader, "SELECT error FROM " + TestPipeline.qualified(reader, "it." + app + "_rejects")))
        .containsExactly("no sensor");
  }

  @Test
  void statefulExampleRunsThroughTheSameCommand() {
    String app = TestPipeline.uniqueApp("ownstate");

    Result result = demo("--job", PageViewCounts.class.getName(), "--events", "6000", "--source", "kinesis",
        "--lanes", "1", "--batch-size", "500", "--app", app, "--table", "it." + app);

    assertThat(result.exit()).as(result.output()).isZero();
    assertThat(result.output()).contains("commit log", "6,000 records", "window_start", "EXACTLY ONCE");
    SpindriftRuntime reader = TestPipeline.runtime(app);
    // 6,000 events 7 ms apart span 42 s: the windows the watermark has passed are written once each
    List<String> windows = rows(reader, "SELECT window_start, page, count(*) FROM "
        + TestPipeline.qualified(reader, "it." + app) + " GROUP BY window_start, page HAVING count(*) > 1");
    assertThat(windows).isEmpty();
    assertThat(TestPipeline.count(reader, "it." + app)).isPositive();
  }

  @Test
  void aJobClassThatDoesNotExistIsNamed() {
    Result result = demo("--job", "com.acme.NoSuchJob", "--input", write("one.jsonl", "{\"a\":1}\n").toString());

    assertThat(result.exit()).isNotZero();
    assertThat(result.errors()).contains("Job class com.acme.NoSuchJob not found");
    assertThat(result.leftRunning()).isEmpty();
  }

  @Test
  void aMissingJarIsNamed() {
    Path missing = dir.resolve("nowhere/orders.jar");

    Result result = demo("--job", "com.acme.OrdersJob", "--jar", missing.toString(), "--input",
        write("one.jsonl", "{\"a\":1}\n").toString());

    assertThat(result.exit()).isNotZero();
    assertThat(result.errors()).contains("Job jar not found: " + missing);
    assertThat(result.leftRunning()).isEmpty();
  }

  @Test
  void aSqlSyntaxErrorIsNamedBeforeAnyEventIsProduced() {
    Path sql = write("broken.sql", "SELECT sensor\n  FROM events WHERE )\n");
    String app = TestPipeline.uniqueApp("badsql");

    Result result = demo("--job", sql.toString(), "--input", write("one.jsonl", "{\"sensor\":\"a\"}\n").toString(),
        "--source", "kinesis", "--app", app, "--table", "it." + app);

    assertThat(result.exit()).isNotZero();
    assertThat(result.errors()).contains("The job cannot run on kinesis input", "Syntax error", "line 2");
    assertThat(result.output()).doesNotContain("Produced");
    assertThat(result.leftRunning()).isEmpty();
  }

  @Test
  void aMalformedInputLineIsNamedWithItsNumber() {
    Path events = write("bad.jsonl", "{\"sensor\":\"a\"}\n\n{\"sensor\": \"b\"\n{\"sensor\":\"c\"}\n");

    Result result = demo("--input", events.toString(), "--source", "kafka");

    assertThat(result.exit()).isNotZero();
    assertThat(result.errors()).contains(events + " line 3: not valid JSON");
    assertThat(result.leftRunning()).isEmpty();
  }

  @Test
  void aBadOptionIsRefusedWithUsage() {
    Result result = demo("--source", "kinesys");

    assertThat(result.exit()).isEqualTo(2);
    assertThat(result.errors()).contains("Invalid --source: 'kinesys'", "Usage: demo.sh");
  }

  @Test
  void anUnknownSettingIsRefusedByName() {
    Result result = demo("--set", "SPINDRIFT_PUBLSH=deferred");

    assertThat(result.exit()).isEqualTo(2);
    assertThat(result.errors()).contains("Invalid --set: 'SPINDRIFT_PUBLSH'", "SPINDRIFT_PUBLISH");
  }

  /** What one run printed, its exit code, and the threads it left that it had started (mapping workers). */
  private record Result(int exit, String output, String errors, List<String> leftRunning) {}

  private static Result demo(String... args) {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    long queriesBefore = streamThreads().count();
    int exit = Demo.run(args, TestPipeline.stack(), new PrintWriter(out, true), new PrintWriter(err, true));
    List<String> left = new ArrayList<>(Thread.getAllStackTraces().keySet().stream()
        .filter(t -> t.isAlive() && t.getName().startsWith("spindrift-esm")).map(Thread::getName).toList());
    if (streamThreads().count() > queriesBefore) {
      left.add("a streaming query");
    }
    return new Result(exit, out + err.toString(), err.toString(), left);
  }

  private static Stream<Thread> streamThreads() {
    return Thread.getAllStackTraces().keySet().stream()
        .filter(t -> t.isAlive() && t.getName().startsWith("stream execution thread"));
  }

  private static List<String> rows(SpindriftRuntime runtime, String sql) {
    List<String> out = new ArrayList<>();
    for (Row row : TestPipeline.rows(runtime, sql)) {
      List<String> cells = new ArrayList<>();
      for (int i = 0; i < row.size(); i++) {
        cells.add(String.valueOf(row.get(i)));
      }
      out.add(String.join(",", cells));
    }
    return out;
  }

  private Path write(String name, String text) {
    try {
      return Files.writeString(dir.resolve(name), text);
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  /** Compiles {@code source} (package com.acme) against this JVM's class path and jars the classes. */
  private Path compileJar(String className, String source) throws IOException {
    Path sources = Files.createDirectories(dir.resolve("src/com/acme"));
    Path classes = Files.createDirectories(dir.resolve("classes"));
    Path file = Files.writeString(sources.resolve(className + ".java"), source);
    String classPath = System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));
    JavaCompiler javac = ToolProvider.getSystemJavaCompiler();
    StringWriter diagnostics = new StringWriter();
    int status = javac.run(null, OutputStream.nullOutputStream(), new WriterStream(diagnostics),
        "-classpath", classPath, "-d", classes.toString(), file.toString());
    assertThat(status).as(diagnostics.toString()).isZero();
    Path jar = dir.resolve("orders-job.jar");
    try (JarOutputStream out = new JarOutputStream(Files.newOutputStream(jar));
         Stream<Path> files = Files.walk(classes)) {
      for (Path classFile : files.filter(Files::isRegularFile).toList()) {
        out.putNextEntry(new JarEntry(classes.relativize(classFile).toString().replace('\\', '/')));
        Files.copy(classFile, out);
        out.closeEntry();
      }
    }
    assertThat(Thread.currentThread().getContextClassLoader().getResource("com/acme/" + className + ".class"))
        .as("the job is not on the test's class path").isNull();
    return jar;
  }

  /** javac's diagnostics into a StringWriter. */
  private static final class WriterStream extends OutputStream {
    private final StringWriter target;

    WriterStream(StringWriter target) {
      this.target = target;
    }

    @Override
    public void write(int b) {
      target.write(b);
    }

    @Override
    public void write(byte[] b, int off, int len) {
      target.write(new String(b, off, len, StandardCharsets.UTF_8));
    }
  }
}
