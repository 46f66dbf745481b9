package io.spindrift.infra.image;

import com.amazonaws.services.lambda.runtime.RequestHandler;
import com.amazonaws.services.lambda.runtime.events.KinesisEvent;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.jar.JarEntry;
import java.util.jar.JarFile;
import java.util.jar.JarOutputStream;
import java.util.stream.Stream;
import javax.tools.JavaCompiler;
import javax.tools.ToolProvider;

/**
 * Builds a shaded jar shaped like stream-handler's {@code spindrift-lambda.jar}: a class named
 * {@code io.spindrift.handler.KinesisHandler} implementing {@code RequestHandler<KinesisEvent,
 * StreamsEventResponse>} plus aws-lambda-java-events and its joda-time inside the jar, as the
 * shade plugin lays them out (the runtime client's serializer needs joda-time to read a
 * KinesisEvent). It reports every record whose data contains {@code "fail"} as a batch item failure. This
 * lets the image script, the CDS archive and the runtime client be tested before the real handler
 * exists; the same tests run against the real jar once it does.
 */
final class StandInHandlerJar {
  private static final String SOURCE = """
      package io.spindrift.handler;

      import com.amazonaws.services.lambda.runtime.Context;
      import com.amazonaws.services.lambda.runtime.RequestHandler;
      import com.amazonaws.services.lambda.runtime.events.KinesisEvent;
      import com.amazonaws.services.lambda.runtime.events.StreamsEventResponse;
      import java.nio.charset.StandardCharsets;
      import java.util.ArrayList;
      import java.util.List;

      public class KinesisHandler implements RequestHandler<KinesisEvent, StreamsEventResponse> {
        @Override
        public StreamsEventResponse handleRequest(KinesisEvent event, Context context) {
          List<StreamsEventResponse.BatchItemFailure> failures = new ArrayList<>();
          for (KinesisEvent.KinesisEventRecord record : event.getRecords()) {
            String data = StandardCharsets.UTF_8.decode(record.getKinesis().getData()).toString();
            if (data.contains("\\"fail\\"")) {
              failures.add(new StreamsEventResponse.BatchItemFailure(record.getKinesis().getSequenceNumber()));
            }
          }
          context.getLogger().log("stand-in handled " + event.getRecords().size() + " records in " + context.getFunctionName());
          return new StreamsEventResponse(failures);
        }
      }
      """;

  private StandInHandlerJar() {}

  /** Builds the jar under {@code dir} (once; reused if present) and returns its path. */
  static synchronized Path build(Path dir) {
    Path jar = dir.resolve("spindrift-lambda.jar");
    if (Files.isRegularFile(jar)) {
      return jar;
    }
    try {
      Path src = dir.resolve("src/io/spindrift/handler/KinesisHandler.java");
      Path classes = dir.resolve("classes");
      Files.createDirectories(src.getParent());
      Files.createDirectories(classes);
      Files.writeString(src, SOURCE);
      Path core = jarOf(RequestHandler.class);
      Path events = jarOf(KinesisEvent.class);
      JavaCompiler javac = ToolProvider.getSystemJavaCompiler();
      int rc = javac.run(null, null, null, "--release", "17", "-d", classes.toString(),
          "-cp", core + java.io.File.pathSeparator + events, src.toString());
      if (rc != 0) {
        throw new IllegalStateException("could not compile the stand-in handler");
      }
      Path tmp = dir.resolve("spindrift-lambda.jar.tmp");
      try (JarOutputStream out = new JarOutputStream(Files.newOutputStream(tmp))) {
        addTree(out, classes);
        addJar(out, events);
        addJar(out, jarOf(org.joda.time.DateTime.class));
      }
      Files.move(tmp, jar);
      return jar;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static Path jarOf(Class<?> type) {
    try {
      return Path.of(type.getProtectionDomain().getCodeSource().getLocation().toURI());
    } catch (URISyntaxException e) {
      throw new IllegalStateException(e);
    }
  }

  private static void addTree(JarOutputStream out, Path root) throws IOException {
    List<Path> files;
    try (Stream<Path> walk = Files.walk(root)) {
      files = walk.filter(Files::isRegularFile).sorted().toList();
    }
    for (Path file : files) {
      out.putNextEntry(new JarEntry(root.relativize(file).toString().replace('\\', '/')));
      Files.copy(file, out);
      out.closeEntry();
    }
  }

  private static void addJar(JarOutputStream out, Path jar) throws IOException {
    try (JarFile in = new JarFile(jar.toFile())) {
      for (JarEntry entry : java.util.Collections.list(in.entries())) {
        if (entry.isDirectory() || entry.getName().startsWith("META-INF/")) {
          continue;
        }
        out.putNextEntry(new JarEntry(entry.getName()));
        try (InputStream data = in.getInputStream(entry)) {
          data.transferTo(out);
        }
        out.closeEntry();
      }
    }
  }
}
