package io.spindrift.infra.function;

import io.spindrift.infra.config.PipelineConfig;
import io.spindrift.infra.config.PipelineConfig.FunctionSettings;
import io.spindrift.infra.network.PipelineNetwork;
import io.spindrift.infra.storage.PipelineStorage;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import software.amazon.awscdk.Annotations;
import software.amazon.awscdk.Aws;
import software.amazon.awscdk.Duration;
import software.amazon.awscdk.services.events.Rule;
import software.amazon.awscdk.services.events.Schedule;
import software.amazon.awscdk.services.events.targets.LambdaFunction;
import software.amazon.awscdk.RemovalPolicy;
import software.amazon.awscdk.Size;
import software.amazon.awscdk.services.ecr.assets.Platform;
import software.amazon.awscdk.services.iam.PolicyStatement;
import software.amazon.awscdk.services.iam.Role;
import software.amazon.awscdk.services.iam.ServicePrincipal;
import software.amazon.awscdk.services.lambda.Architecture;
import software.amazon.awscdk.services.lambda.AssetImageCodeProps;
import software.amazon.awscdk.services.lambda.DockerImageCode;
import software.amazon.awscdk.services.lambda.DockerImageFunction;
import software.amazon.awscdk.services.lambda.DockerImageFunctionProps;
import software.amazon.awscdk.services.logs.LogGroup;
import software.amazon.awscdk.services.logs.RetentionDays;
import software.constructs.Construct;

/**
 * The app's Lambda functions, all from one container image (DESIGN §10): a handler function per
 * configured source, which commits, and the fan-out child executor, which only stages. Each has its
 * own role with least-privilege grants ({@link PipelineAccess}) and its own log group. With a {@link PipelineNetwork}
 * the MSK handler, the one function that reads from the brokers (catch-up read-ahead), runs in the cluster's subnets;
 * the others call only AWS APIs (S3, DynamoDB, Lambda, Glue) and stay outside any VPC, where they need neither NAT nor
 * endpoints: the children read the exchange the parent wrote, never Kafka, and roll-forward and maintenance publish
 * and compact what is committed.
 */
public final class PipelineFunctions extends Construct {
  /** Handler string of the Kinesis handler inside the image. */
  public static final String KINESIS_HANDLER = "io.spindrift.handler.KinesisHandler::handleRequest";
  /** Handler string of the MSK handler inside the image. */
  public static final String MSK_HANDLER = "io.spindrift.handler.MskHandler::handleRequest";
  /** Handler string of the scheduled roll-forward (publishes what is committed and unpublished). */
  public static final String ROLL_FORWARD_HANDLER = "io.spindrift.handler.RollForwardHandler::handleRequest";
  /** How often the roll-forward runs: a deferred publish frozen with its container waits at most this long. */
  public static final int ROLL_FORWARD_MINUTES = 5;
  /** Handler string of the scheduled table maintenance (compaction, expiry, collection of published stages). */
  public static final String MAINTENANCE_HANDLER = "io.spindrift.handler.MaintenanceHandler::handleRequest";
  /**
   * Handler string of the fan-out child executor (DESIGN §8): the handlers invoke it through
   * {@code SPINDRIFT_FANOUT_FUNCTION} when a batch fans out ({@code SPINDRIFT_FANOUT=auto}).
   */
  public static final String CHILD_EXECUTOR_HANDLER = "io.spindrift.fanout.ChildExecutorHandler::handleRequest";

  private final PipelineConfig config;
  private final PipelineStorage storage;
  private final Path imageDirectory;
  private final Optional<PipelineNetwork> network;
  private final DockerImageFunction childExecutor;
  private final Optional<DockerImageFunction> kinesisHandler;
  private final Optional<DockerImageFunction> mskHandler;
  private final DockerImageFunction rollForward;
  private final DockerImageFunction maintenance;

  public PipelineFunctions(Construct scope, String id, PipelineConfig config, PipelineStorage storage,
      Optional<PipelineNetwork> network, Path imageDirectory) {
    super(scope, id);
    this.config = config;
    this.storage = storage;
    this.imageDirectory = imageDirectory;
    this.network = network;
    this.childExecutor = function("ChildExecutor", "child", CHILD_EXECUTOR_HANDLER, config.childExecutor(), Map.of());
    PipelineAccess.grantChildExecutor(childExecutor, storage, config);
    this.kinesisHandler = config.kinesis().map(k -> handler("KinesisHandler", "kinesis", KINESIS_HANDLER));
    this.mskHandler = config.msk().map(m -> newMskHandler());
    this.rollForward = function("RollForward", "rollforward", ROLL_FORWARD_HANDLER, config.handler(), Map.of());
    PipelineAccess.grantCommitter(rollForward, storage, config);
    Rule.Builder.create(this, "RollForwardSchedule")
        .ruleName(functionName(config, "rollforward"))
        .description("Publishes what " + config.app() + " committed and has not published (DESIGN §5, I1)")
        .schedule(Schedule.rate(Duration.minutes(ROLL_FORWARD_MINUTES)))
        .targets(List.of(LambdaFunction.Builder.create(rollForward).retryAttempts(0).build()))
        .build();
    this.maintenance = function("Maintenance", "maintain", MAINTENANCE_HANDLER, config.maintenance().function(),
        Map.of());
    PipelineAccess.grantCommitter(maintenance, storage, config);
    Rule.Builder.create(this, "MaintenanceSchedule")
        .ruleName(functionName(config, "maintain"))
        .description("Compacts and collects the tables of " + config.app() + " and its published stages (docs/MAINTENANCE.md)")
        .schedule(Schedule.rate(Duration.minutes(config.maintenance().rateMinutes())))
        .enabled(config.maintenance().enabled())
        .targets(List.of(LambdaFunction.Builder.create(maintenance).retryAttempts(0).build()))
        .build();
  }

  /** The scheduled table maintenance function (an EventBridge rule, {@code maintenance.rateMinutes}). */
  public DockerImageFunction maintenance() {
    return maintenance;
  }

  /** The scheduled roll-forward function (an EventBridge rule invokes it every {@value #ROLL_FORWARD_MINUTES} min). */
  public DockerImageFunction rollForward() {
    return rollForward;
  }

  public DockerImageFunction childExecutor() {
    return childExecutor;
  }

  public Optional<DockerImageFunction> kinesisHandler() {
    return kinesisHandler;
  }

  public Optional<DockerImageFunction> mskHandler() {
    return mskHandler;
  }

  /** The committing handler functions (one per configured source). */
  public List<DockerImageFunction> handlers() {
    List<DockerImageFunction> handlers = new ArrayList<>();
    kinesisHandler.ifPresent(handlers::add);
    mskHandler.ifPresent(handlers::add);
    return handlers;
  }

  /** The physical function name for a role suffix: {@code spindrift-<app>-<suffix>}. */
  public static String functionName(PipelineConfig config, String suffix) {
    return "spindrift-" + config.app() + "-" + suffix;
  }

  /**
   * The MSK handler, in the cluster's network when there is one. Without one its read-ahead cannot reach brokers that
   * are private (MSK's always are, unless public access is turned on), which synth says as a warning.
   */
  private DockerImageFunction newMskHandler() {
    DockerImageFunction fn = handler("MskHandler", "msk", MSK_HANDLER);
    network.ifPresentOrElse(n -> n.place(fn), () -> {
      if (config.runtime().readAhead()) {
        Annotations.of(fn).addWarningV2("spindrift:read-ahead-without-network", "runtime.readAhead is on with an MSK"
            + " source and no 'network' is configured: the MSK handler runs outside the cluster's VPC, so each"
            + " read-ahead against private brokers times out and falls back to the plain event. Set 'network'"
            + " (infra-cdk/README.md, Network).");
      }
    });
    return fn;
  }

  private DockerImageFunction handler(String id, String suffix, String handlerString) {
    // Only a committing handler reads ahead (docs/FANOUT.md); an MSK handler's brokers and authentication are added
    // by PipelineEventSources, which knows the cluster.
    Map<String, String> env = new LinkedHashMap<>();
    env.put("SPINDRIFT_FANOUT_FUNCTION", childExecutor.getFunctionName());
    env.put("SPINDRIFT_READ_AHEAD", config.runtime().readAhead() ? "on" : "off");
    DockerImageFunction fn = function(id, suffix, handlerString, config.handler(), env);
    PipelineAccess.grantCommitter(fn, storage, config);
    PipelineAccess.grantMappingRead(fn);
    childExecutor.grantInvoke(fn);
    return fn;
  }

  private DockerImageFunction function(
      String id, String suffix, String handlerString, FunctionSettings settings, Map<String, String> extraEnv) {
    String name = functionName(config, suffix);
    LogGroup logs = LogGroup.Builder.create(this, id + "Logs")
        .logGroupName("/aws/lambda/" + name)
        .retention(RetentionDays.ONE_MONTH)
        .removalPolicy(RemovalPolicy.DESTROY)
        .build();
    Role role = Role.Builder.create(this, id + "Role")
        .assumedBy(new ServicePrincipal("lambda.amazonaws.com"))
        .description("Spindrift " + config.app() + " " + suffix + " function (least privilege)")
        .build();
    role.addToPolicy(PolicyStatement.Builder.create()
        .actions(List.of("logs:CreateLogStream", "logs:PutLogEvents"))
        .resources(List.of(logs.getLogGroupArn()))
        .build());
    Map<String, String> env = new LinkedHashMap<>(runtimeSettings());
    env.putAll(extraEnv);
    DockerImageFunctionProps.Builder props = DockerImageFunctionProps.builder()
        .functionName(name)
        .description("Spindrift " + config.app() + ": " + handlerString)
        .code(image(handlerString))
        .architecture(Architecture.X86_64)
        .memorySize(settings.memoryMb())
        .timeout(Duration.seconds(settings.timeoutSeconds()))
        .ephemeralStorageSize(Size.mebibytes(settings.ephemeralStorageMb()))
        .role(role)
        .logGroup(logs)
        .environment(env);
    settings.reservedConcurrency().ifPresent(props::reservedConcurrentExecutions);
    return new DockerImageFunction(this, id, props.build());
  }

  private DockerImageCode image(String handlerString) {
    // One image directory for every function, so the asset is built and pushed once; the handler
    // is chosen by the image CMD. No Docker is needed at synth.
    return DockerImageCode.fromImageAsset(imageDirectory.toString(), AssetImageCodeProps.builder()
        .cmd(List.of(handlerString))
        .platform(Platform.LINUX_AMD64)
        .build());
  }

  /** The {@code SPINDRIFT_*} settings every function of the app runs with. */
  private Map<String, String> runtimeSettings() {
    Map<String, String> env = new LinkedHashMap<>();
    env.put("SPINDRIFT_APP", config.app());
    env.put("SPINDRIFT_JOB", config.job());
    env.put("SPINDRIFT_BUCKET", storage.bucket().getBucketName());
    env.put("SPINDRIFT_REGION", Aws.REGION);
    env.put("SPINDRIFT_WAREHOUSE", "s3://" + storage.bucket().getBucketName() + "/" + storage.warehousePrefix().replaceAll("/$", ""));
    env.put("SPINDRIFT_SINK_FORMAT", config.sink().format().settingValue());
    env.put("SPINDRIFT_SINK_TABLE", config.sink().table());
    env.put("SPINDRIFT_CATALOG", config.sink().catalog().settingValue());
    config.sink().catalogUri().ifPresent(uri -> env.put("SPINDRIFT_CATALOG_URI", uri));
    env.putAll(storage.tableSettings());
    env.put("SPINDRIFT_SHUFFLE_PARTITIONS", Integer.toString(config.runtime().shufflePartitions()));
    env.put("SPINDRIFT_PARALLELIZATION_FACTOR", Integer.toString(config.eventSource().parallelizationFactor()));
    env.put("SPINDRIFT_MAX_COMMIT_ATTEMPTS", Integer.toString(config.runtime().maxCommitAttempts()));
    env.put("SPINDRIFT_FANOUT", config.runtime().fanOut().name().toLowerCase(java.util.Locale.ROOT));
    env.put("SPINDRIFT_FANOUT_MAX_RECORDS", Integer.toString(config.runtime().fanOutMaxRecords()));
    env.put("SPINDRIFT_ARCHIVE", Boolean.toString(config.runtime().archive()));
    return env;
  }
}
