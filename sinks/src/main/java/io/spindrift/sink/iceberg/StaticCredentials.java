package io.spindrift.sink.iceberg;

import java.util.Map;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.AwsCredentials;
import software.amazon.awssdk.auth.credentials.AwsCredentialsProvider;

/**
 * Static keys for every AWS client Iceberg builds (S3FileIO and the DynamoDB or Glue catalog), for a local stack.
 * Iceberg instantiates it from {@code client.credentials-provider} through {@link #create(Map)}, passing the
 * {@code client.credentials-provider.*} properties.
 */
public final class StaticCredentials implements AwsCredentialsProvider {
  static final String ACCESS_KEY = "access-key-id";
  static final String SECRET_KEY = "secret-access-key";
  private final AwsCredentials credentials;

  private StaticCredentials(AwsCredentials credentials) {
    this.credentials = credentials;
  }

  public static StaticCredentials create(Map<String, String> properties) {
    String key = properties.get(ACCESS_KEY);
    if (key == null || key.isBlank()) {
      throw new IllegalArgumentException("client.credentials-provider." + ACCESS_KEY + " is not set");
    }
    return new StaticCredentials(AwsBasicCredentials.create(key, properties.getOrDefault(SECRET_KEY, "")));
  }

  @Override
  public AwsCredentials resolveCredentials() {
    return credentials;
  }
}
