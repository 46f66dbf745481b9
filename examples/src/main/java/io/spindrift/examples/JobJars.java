package io.spindrift.examples;

import io.spindrift.job.StreamJob;
import java.io.IOException;
import java.net.MalformedURLException;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.jar.JarFile;
import org.apache.spark.SparkContext;

/**
 * The jars that hold a user's job, for a local run. While open, a class loader over them (its parent the demo's
 * own) is the thread's context class loader, which is where {@code io.spindrift.job.JobLoader} looks for the
 * {@code SPINDRIFT_JOB} class; threads started meanwhile (the mappings' workers, Spark's query threads) inherit
 * it. {@link #shipTo} gives Spark's executors the same jars, for the job's functions and lambdas. Closing restores
 * the previous context class loader.
 */
final class JobJars implements AutoCloseable {
  private final List<Path> jars;
  private final URLClassLoader loader;
  private final ClassLoader previous;

  private JobJars(List<Path> jars, URLClassLoader loader) {
    this.jars = jars;
    this.loader = loader;
    this.previous = Thread.currentThread().getContextClassLoader();
    Thread.currentThread().setContextClassLoader(loader);
  }

  /**
   * Opens {@code jars} and makes them the context class loader.
   *
   * @throws IllegalArgumentException naming a jar that does not exist or is not a jar file
   */
  static JobJars open(List<Path> jars) {
    List<URL> urls = new ArrayList<>();
    for (Path jar : jars) {
      if (!Files.isRegularFile(jar)) {
        throw new IllegalArgumentException("Job jar not found: " + jar.toAbsolutePath());
      }
      try (JarFile ignored = new JarFile(jar.toFile())) {
        urls.add(jar.toAbsolutePath().toUri().toURL());
      } catch (MalformedURLException e) {
        throw new IllegalArgumentException("Invalid job jar path: " + jar, e);
      } catch (IOException e) {
        throw new IllegalArgumentException("Not a jar file: " + jar.toAbsolutePath() + " (" + e.getMessage() + ")");
      }
    }
    ClassLoader parent = Thread.currentThread().getContextClassLoader();
    return new JobJars(List.copyOf(jars), new URLClassLoader("spindrift-job", urls.toArray(URL[]::new), parent));
  }

  /**
   * Checks that {@code className} is a {@link StreamJob} this loader can see, before anything starts.
   *
   * @throws IllegalArgumentException naming the class and the jars searched
   */
  void checkJobClass(String className) {
    Class<?> type;
    try {
      type = Class.forName(className, false, loader);
    } catch (ClassNotFoundException | LinkageError e) {
      throw new IllegalArgumentException("Job class " + className + " not found in " + where()
          + (e instanceof LinkageError ? " (" + e + ")" : ""));
    }
    if (!StreamJob.class.isAssignableFrom(type)) {
      throw new IllegalArgumentException("Job class " + className + " does not implement " + StreamJob.class.getName());
    }
  }

  /** " (from a.jar, b.jar)" for the summary, or "" without jars. */
  String origin() {
    return jars.isEmpty() ? "" : " (from " + String.join(", ", jars.stream().map(p -> p.getFileName().toString()).toList()) + ")";
  }

  private String where() {
    return jars.isEmpty() ? "the class path (give the jar that holds it with --jar)"
        : "the jars " + jars.stream().map(p -> p.toAbsolutePath().toString()).toList() + " or the class path";
  }

  /**
   * Adds the jars to Spark's executors. Each goes under a name made from its content, because Spark keeps one
   * jar per file name for the life of the JVM.
   */
  void shipTo(SparkContext spark) {
    for (Path jar : jars) {
      spark.addJar(contentNamedCopy(jar).toString());
    }
  }

  private static Path contentNamedCopy(Path jar) {
    try {
      byte[] digest = MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(jar));
      String hash = HexFormat.of().formatHex(digest).substring(0, 16);
      Path dir = Files.createDirectories(Path.of(System.getProperty("java.io.tmpdir"), "spindrift-job-jars"));
      Path copy = dir.resolve(hash + "-" + jar.getFileName());
      if (!Files.exists(copy)) {
        Files.copy(jar, copy, StandardCopyOption.REPLACE_EXISTING);
      }
      return copy;
    } catch (IOException | NoSuchAlgorithmException e) {
      throw new IllegalStateException("Cannot stage the job jar " + jar + " for Spark: " + e, e);
    }
  }

  /** Restores the previous context class loader and closes the jars. */
  @Override
  public void close() {
    Thread.currentThread().setContextClassLoader(previous);
    try {
      loader.close();
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }
}
