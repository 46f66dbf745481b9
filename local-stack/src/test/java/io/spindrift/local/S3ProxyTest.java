package io.spindrift.local;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.http.urlconnection.UrlConnectionHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.s3.S3Client;

/**
 * s3proxy on its own with a heap far smaller than what is stored in it: a fan-out replay writes its exchange inputs
 * (about 0.5 KB per record) into S3, more than the child's heap over a long range.
 */
class S3ProxyTest {
  private static final String HEAP = "64m";
  private static final int OBJECTS = 48;
  private static final int OBJECT_BYTES = 2_500_000;

  @TempDir
  Path workDir;

  @Test
  void storesAndServesTwiceItsHeapWithoutRunningOutOfMemory() {
    String classpath = ServiceClasspaths.resolve(List.of(S3Proxy.ARTIFACT)).get(S3Proxy.ARTIFACT);
    try (LocalService s3proxy = S3Proxy.start(new ChildJvm(workDir), classpath, workDir, Duration.ofMinutes(1),
            "us-east-1", "local", "local", HEAP);
         S3Client s3 = S3Client.builder()
             .endpointOverride(URI.create(s3proxy.endpoint()))
             .forcePathStyle(true)
             .region(Region.US_EAST_1)
             .credentialsProvider(StaticCredentialsProvider.create(AwsBasicCredentials.create("local", "local")))
             .httpClient(UrlConnectionHttpClient.create())
             .build()) {
      s3.createBucket(b -> b.bucket("spindrift"));
      for (int i = 0; i < OBJECTS; i++) {
        int index = i;
        s3.putObject(p -> p.bucket("spindrift").key(key(index)), RequestBody.fromBytes(object(index)));
      }

      for (int i = 0; i < OBJECTS; i++) {
        int index = i;
        assertThat(s3.getObjectAsBytes(g -> g.bucket("spindrift").key(key(index))).asByteArray())
            .as(key(i)).isEqualTo(object(i));
      }
    }
  }

  private static String key(int i) {
    return "app/shuffle/" + String.format("%02x", i) + "/exchange-" + i + "/input";
  }

  private static byte[] object(int i) {
    byte[] bytes = new byte[OBJECT_BYTES];
    Arrays.fill(bytes, (byte) i);
    return bytes;
  }
}
