package io.spindrift.replay;

import io.spindrift.config.SpindriftConfig;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Option;

/**
 * The stream a command reads: exactly one of {@code --stream} (Kinesis), {@code --topic} (Kafka/MSK) or {@code
 * --archive} (an app's S3 archive of committed input).
 */
final class SourceOptions {
  @ArgGroup(exclusive = true, multiplicity = "1")
  Stream which;

  @Option(names = "--kinesis-endpoint", paramLabel = "URL",
      description = "Kinesis endpoint override (a local emulator); default: $SPINDRIFT_KINESIS_ENDPOINT, else AWS.")
  String kinesisEndpoint;

  @Option(names = "--bootstrap-servers", paramLabel = "HOST:PORT[,...]",
      description = "Kafka/MSK bootstrap servers; default: $SPINDRIFT_KAFKA_BOOTSTRAP.")
  String bootstrapServers;

  static final class Stream {
    @Option(names = "--stream", paramLabel = "NAME", required = true, description = "Kinesis stream to read.")
    String stream;

    @Option(names = "--topic", paramLabel = "NAME", required = true, description = "Kafka/MSK topic to read.")
    String topic;

    @Option(names = "--archive", paramLabel = "APP", required = true,
        description = "Read APP's S3 archive of committed input (s3://$SPINDRIFT_BUCKET/APP/archive/) instead of a "
            + "stream: history past the stream's retention.")
    String archive;
  }

  /**
   * Opens the source.
   *
   * @throws BadArgument naming the option when the stream, topic or servers are wrong
   */
  ReplaySource open(CliEnvironment env, SpindriftConfig config) {
    if (which.archive != null) {
      try {
        return ArchiveSource.open(new io.spindrift.archive.BatchArchive(io.spindrift.runtime.AwsClients.s3(config),
            config.bucket()), which.archive);
      } catch (IllegalArgumentException e) {
        throw new BadArgument("--archive: " + e.getMessage(), e);
      }
    }
    if (which.stream != null) {
      String endpoint = kinesisEndpoint != null ? kinesisEndpoint : env.variable("SPINDRIFT_KINESIS_ENDPOINT", null);
      try {
        return KinesisSource.open(CliEnvironment.kinesis(config, endpoint), which.stream);
      } catch (IllegalArgumentException e) {
        throw new BadArgument("--stream: " + e.getMessage(), e);
      }
    }
    String bootstrap = bootstrapServers != null ? bootstrapServers : env.variable("SPINDRIFT_KAFKA_BOOTSTRAP", null);
    if (bootstrap == null) {
      throw new BadArgument("--bootstrap-servers: needed to read topic '" + which.topic
          + "' (or set SPINDRIFT_KAFKA_BOOTSTRAP)");
    }
    try {
      return KafkaSource.open(bootstrap, which.topic);
    } catch (IllegalArgumentException e) {
      throw new BadArgument("--topic: " + e.getMessage(), e);
    }
  }
}
