package io.spindrift.job;

import io.spindrift.config.ConfigException;
import io.spindrift.config.Setting;
import io.spindrift.config.SpindriftConfig;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import software.amazon.awssdk.core.sync.ResponseTransformer;
import software.amazon.awssdk.services.s3.S3Client;

/** Finds the job named by {@code SPINDRIFT_JOB}: a {@link StreamJob} class, or a SQL file. */
public final class JobLoader {
  private JobLoader() {}

  public static StreamJob load(SpindriftConfig config) {
    String job = config.job();
    if (job.endsWith(".sql")) {
      return new SqlJob(readSql(config, job), job, config.get(Setting.SINK_TABLE));
    }
    try {
      Class<?> type = Class.forName(job, true, Thread.currentThread().getContextClassLoader());
      if (!StreamJob.class.isAssignableFrom(type)) {
        throw new ConfigException(Setting.JOB, job, "the class does not implement " + StreamJob.class.getName());
      }
      return (StreamJob) type.getDeclaredConstructor().newInstance();
    } catch (ClassNotFoundException e) {
      throw new ConfigException(Setting.JOB, job, "no such class on the classpath");
    } catch (ReflectiveOperationException e) {
      throw new ConfigException(Setting.JOB, job, "cannot instantiate it with a public no-argument constructor: " + e);
    }
  }

  private static String readSql(SpindriftConfig config, String location) {
    try {
      if (location.startsWith("classpath:")) {
        String resource = location.substring("classpath:".length()).replaceFirst("^/", "");
        try (InputStream in = Thread.currentThread().getContextClassLoader().getResourceAsStream(resource)) {
          if (in == null) {
            throw new ConfigException(Setting.JOB, location, "no such resource on the classpath");
          }
          return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
      }
      if (location.startsWith("s3://")) {
        URI uri = URI.create(location);
        try (S3Client s3 = s3(config)) {
          return s3.getObject(b -> b.bucket(uri.getHost()).key(uri.getPath().substring(1)),
              ResponseTransformer.toBytes()).asUtf8String();
        }
      }
      return Files.readString(Path.of(location.replaceFirst("^file:", "")));
    } catch (IOException | RuntimeException e) {
      if (e instanceof ConfigException config1) {
        throw config1;
      }
      throw new ConfigException(Setting.JOB, location, "cannot read the SQL file: " + e.getMessage());
    }
  }

  private static S3Client s3(SpindriftConfig config) {
    return io.spindrift.runtime.AwsClients.s3(config);
  }
}
