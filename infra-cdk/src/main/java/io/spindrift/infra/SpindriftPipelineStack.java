package io.spindrift.infra;

import io.spindrift.infra.config.PipelineConfig;
import io.spindrift.infra.function.PipelineFunctions;
import io.spindrift.infra.monitoring.PipelineMonitoring;
import io.spindrift.infra.network.PipelineNetwork;
import io.spindrift.infra.source.PipelineEventSources;
import io.spindrift.infra.storage.PipelineStorage;
import java.nio.file.Path;
import java.util.Optional;
import software.amazon.awscdk.CfnOutput;
import software.amazon.awscdk.Stack;
import software.amazon.awscdk.StackProps;
import software.amazon.awscdk.Tags;
import software.constructs.Construct;

/**
 * One deployed Spindrift app: storage, the container-image functions, the event-source mappings
 * and monitoring, wired from a validated {@link PipelineConfig}. The stack reads nothing at synth
 * but the configuration and the image directory (no Docker, no AWS calls).
 */
public final class SpindriftPipelineStack extends Stack {
  private final PipelineStorage storage;
  private final Optional<PipelineNetwork> network;
  private final PipelineFunctions functions;
  private final PipelineEventSources sources;
  private final PipelineMonitoring monitoring;

  public SpindriftPipelineStack(Construct scope, String id, StackProps props, PipelineConfig config, Path imageDirectory) {
    super(scope, id, props);
    Tags.of(this).add("spindrift:app", config.app());
    this.storage = new PipelineStorage(this, "Storage", config);
    this.network = config.network().map(n -> new PipelineNetwork(this, "Network", config));
    this.functions = new PipelineFunctions(this, "Functions", config, storage, network, imageDirectory);
    this.sources = new PipelineEventSources(this, "Sources", config, functions.kinesisHandler(), functions.mskHandler());
    this.monitoring = new PipelineMonitoring(this, "Monitoring", config, functions, sources.onFailure());
    outputs();
  }

  public PipelineStorage storage() {
    return storage;
  }

  /** The MSK cluster's network the MSK handler runs in, if {@code network} is configured. */
  public Optional<PipelineNetwork> network() {
    return network;
  }

  public PipelineFunctions functions() {
    return functions;
  }

  public PipelineEventSources sources() {
    return sources;
  }

  public PipelineMonitoring monitoring() {
    return monitoring;
  }

  private void outputs() {
    CfnOutput.Builder.create(this, "BucketName").value(storage.bucket().getBucketName()).build();
    CfnOutput.Builder.create(this, "CommitTableName").value(storage.commitTable().getTableName()).build();
    CfnOutput.Builder.create(this, "OnFailureQueueUrl").value(sources.onFailure().getQueueUrl()).build();
    sources.stream().ifPresent(s -> CfnOutput.Builder.create(this, "StreamName").value(s.getStreamName()).build());
    functions.handlers().forEach(fn ->
        CfnOutput.Builder.create(this, fn.getNode().getId() + "Name").value(fn.getFunctionName()).build());
  }
}
