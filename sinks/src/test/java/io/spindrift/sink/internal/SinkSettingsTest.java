package io.spindrift.sink.internal;

import static org.assertj.core.api.Assertions.assertThat;

import io.spindrift.sink.SinkContext;
import java.util.Map;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.s3a.Constants;
import org.apache.hadoop.fs.s3a.S3AUtils;
import org.junit.jupiter.api.Test;

/** The S3A settings the Delta and Hudi sinks give Hadoop, as S3A itself reads them for the sinks' bucket. */
class SinkSettingsTest {
  private static final long MIB = 1024 * 1024;

  @Test
  void eachFileBeingWrittenHoldsAnEightMibBufferNotS3asDefaultSixtyFourMib() {
    SinkContext context = new SinkContext("app", null, null, "s3://tables/stage",
        Map.of("SPINDRIFT_BUCKET", "tables", "SPINDRIFT_S3_ENDPOINT", "http://127.0.0.1:9000"));
    Configuration conf = new Configuration(false);
    SinkSettings.s3aProperties(context).forEach(conf::set);

    // S3A applies fs.s3a.bucket.<bucket>.* over fs.s3a.* when it opens that bucket
    Configuration forBucket = S3AUtils.propagateBucketOptions(conf, "tables");
    long partSize = S3AUtils.getMultipartSizeProperty(forBucket, Constants.MULTIPART_SIZE,
        Constants.DEFAULT_MULTIPART_SIZE);

    assertThat(partSize).as("the block each S3A output stream allocates and zeroes when it opens").isEqualTo(8 * MIB);
    assertThat(Constants.DEFAULT_MULTIPART_SIZE).as("what it replaces").isEqualTo(64 * MIB);
    assertThat(partSize).as("S3's smallest upload part").isGreaterThanOrEqualTo(5 * MIB);
    assertThat(forBucket.get(Constants.FAST_UPLOAD_BUFFER)).isEqualTo(Constants.FAST_UPLOAD_BYTEBUFFER);
    // another bucket keeps S3A's defaults
    assertThat(S3AUtils.propagateBucketOptions(conf, "other").get(Constants.MULTIPART_SIZE)).isNull();
  }
}
