package io.spindrift.infra.monitoring;

import io.spindrift.infra.config.PipelineConfig;
import io.spindrift.infra.function.PipelineFunctions;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import software.amazon.awscdk.Duration;
import software.amazon.awscdk.services.cloudwatch.Alarm;
import software.amazon.awscdk.services.cloudwatch.ComparisonOperator;
import software.amazon.awscdk.services.cloudwatch.Dashboard;
import software.amazon.awscdk.services.cloudwatch.GraphWidget;
import software.amazon.awscdk.services.cloudwatch.MathExpression;
import software.amazon.awscdk.services.cloudwatch.IMetric;
import software.amazon.awscdk.services.cloudwatch.IWidget;
import software.amazon.awscdk.services.cloudwatch.Metric;
import software.amazon.awscdk.services.cloudwatch.MetricOptions;
import software.amazon.awscdk.services.cloudwatch.TreatMissingData;
import software.amazon.awscdk.services.cloudwatch.actions.SnsAction;
import software.amazon.awscdk.services.lambda.DockerImageFunction;
import software.amazon.awscdk.services.sns.Topic;
import software.amazon.awscdk.services.sqs.Queue;
import software.constructs.Construct;

/**
 * Alarms and a dashboard for one app: Kinesis iterator age and MSK offset lag (falling behind),
 * errors and throttles of every function, records sent to the on-failure destination, and commit
 * conflicts reported by the runtime in Embedded Metric Format (namespace {@code Spindrift}, metric
 * {@code CommitConflicts}, dimension {@code App}).
 */
public final class PipelineMonitoring extends Construct {
  /** CloudWatch namespace of the runtime's EMF metrics. */
  public static final String NAMESPACE = "Spindrift";
  /** EMF metric the runtime emits on every commit conflict. */
  public static final String COMMIT_CONFLICTS = "CommitConflicts";
  /** EMF metric the scheduled roll-forward emits: the age of the oldest committed, unpublished commit. */
  /** Milliseconds a batch spent committing (the commit write and its sequencing), dimensions App and App+Lane. */
  public static final String COMMIT_LATENCY = "CommitLatencyMs";
  public static final String OLDEST_UNPUBLISHED = "OldestUnpublishedCommitAgeSeconds";
  /** EMF metric of the maintenance run: data files in the current version of a table (dimensions App, Table). */
  public static final String TABLE_DATA_FILES = "TableDataFiles";
  /** A commit waiting longer than this (three roll-forward ticks) means publication is stuck. */
  public static final int OLDEST_UNPUBLISHED_ALARM_SECONDS = 3 * PipelineFunctions.ROLL_FORWARD_MINUTES * 60;

  private final PipelineConfig config;
  private final List<Alarm> alarms = new ArrayList<>();

  public PipelineMonitoring(Construct scope, String id, PipelineConfig config, PipelineFunctions functions, Queue onFailure) {
    super(scope, id);
    this.config = config;
    functions.kinesisHandler().ifPresent(fn -> alarm("KinesisIteratorAge",
        fn.metric("IteratorAge", MetricOptions.builder().statistic("Maximum").period(Duration.minutes(1)).build()),
        config.alarms().iteratorAgeSeconds() * 1000.0, 5, 3,
        "Kinesis iterator age of " + fn.getFunctionName() + " above " + config.alarms().iteratorAgeSeconds() + " s: the pipeline is falling behind"));
    functions.mskHandler().ifPresent(fn -> alarm("MskOffsetLag",
        fn.metric("OffsetLag", MetricOptions.builder().statistic("Maximum").period(Duration.minutes(1)).build()),
        config.alarms().offsetLagRecords(), 5, 3,
        "MSK offset lag of " + fn.getFunctionName() + " above " + config.alarms().offsetLagRecords() + " records"));
    List<DockerImageFunction> all = new ArrayList<>(functions.handlers());
    all.add(functions.childExecutor());
    all.add(functions.rollForward());
    all.add(functions.maintenance());
    for (DockerImageFunction fn : all) {
      String id0 = fn.getNode().getId();
      alarm(id0 + "Errors", fn.metricErrors(sum5Min()), 1, 1, 1, "Invocation errors of " + id0);
      alarm(id0 + "Throttles", fn.metricThrottles(sum5Min()), 1, 1, 1, "Throttled invocations of " + id0);
    }
    alarm("CommitConflicts", commitConflicts(), config.alarms().commitConflictsPer5Min(), 1, 1,
        "More than " + config.alarms().commitConflictsPer5Min() + " commit conflicts in 5 minutes: lanes are contending");
    alarm("OldestUnpublishedCommit", oldestUnpublished(), OLDEST_UNPUBLISHED_ALARM_SECONDS, 1, 1,
        "A commit has waited more than " + OLDEST_UNPUBLISHED_ALARM_SECONDS + " s to be published: the table lags the"
            + " commit log (see the roll-forward function's errors)");
    alarm("OnFailureRecords", onFailure.metricApproximateNumberOfMessagesVisible(
        MetricOptions.builder().statistic("Maximum").period(Duration.minutes(5)).build()), 1, 1, 1,
        "Batches reached the on-failure destination: records were skipped by the event-source mapping; replay them");
    config.alarms().topicArn().ifPresent(this::notify);
    dashboard(functions, onFailure);
  }

  /** The alarms created, in creation order. */
  public List<Alarm> alarms() {
    return List.copyOf(alarms);
  }

  private Metric commitConflicts() {
    return Metric.Builder.create()
        .namespace(NAMESPACE)
        .metricName(COMMIT_CONFLICTS)
        .dimensionsMap(Map.of("App", config.app()))
        .statistic("Sum")
        .period(Duration.minutes(5))
        .build();
  }

  private Metric oldestUnpublished() {
    return Metric.Builder.create()
        .namespace(NAMESPACE)
        .metricName(OLDEST_UNPUBLISHED)
        .dimensionsMap(Map.of("App", config.app()))
        .statistic("Maximum")
        .period(Duration.minutes(5))
        .build();
  }

  /** One line per lane: a SEARCH over the App+Lane dimension the invocation log line emits. */
  private MathExpression perLane(String metric, String statistic) {
    return MathExpression.Builder.create()
        .expression("SEARCH('{" + NAMESPACE + ",App,Lane} MetricName=\"" + metric + "\" App=\"" + config.app()
            + "\"', '" + statistic + "', 300)")
        .usingMetrics(Map.of())
        .label(metric)
        .period(Duration.minutes(5))
        .build();
  }

  private Metric tableDataFiles(String table) {
    return Metric.Builder.create()
        .namespace(NAMESPACE)
        .metricName(TABLE_DATA_FILES)
        .dimensionsMap(Map.of("App", config.app(), "Table", table))
        .statistic("Maximum")
        .period(Duration.hours(1))
        .build();
  }

  private static MetricOptions sum5Min() {
    return MetricOptions.builder().statistic("Sum").period(Duration.minutes(5)).build();
  }

  private void alarm(String id, IMetric metric, double threshold, int periods, int datapoints, String description) {
    alarms.add(Alarm.Builder.create(this, id)
        .alarmName("spindrift-" + config.app() + "-" + id)
        .alarmDescription(description)
        .metric(metric)
        .threshold(threshold)
        .comparisonOperator(ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD)
        .evaluationPeriods(periods)
        .datapointsToAlarm(datapoints)
        .treatMissingData(TreatMissingData.NOT_BREACHING)
        .build());
  }

  private void notify(String topicArn) {
    SnsAction action = new SnsAction(Topic.fromTopicArn(this, "AlarmTopic", topicArn));
    alarms.forEach(alarm -> {
      alarm.addAlarmAction(action);
      alarm.addOkAction(action);
    });
  }

  private void dashboard(PipelineFunctions functions, Queue onFailure) {
    List<IWidget> row = new ArrayList<>();
    functions.kinesisHandler().ifPresent(fn -> row.add(graph("Kinesis iterator age (ms)",
        fn.metric("IteratorAge", MetricOptions.builder().statistic("Maximum").build()))));
    functions.mskHandler().ifPresent(fn -> row.add(graph("MSK offset lag (records)",
        fn.metric("OffsetLag", MetricOptions.builder().statistic("Maximum").build()))));
    row.add(graph("Commit conflicts", commitConflicts()));
    row.add(graph("Oldest unpublished commit (s)", oldestUnpublished()));
    row.add(graph("Commit latency p95 per lane (ms)", perLane(COMMIT_LATENCY, "p95")));
    row.add(graph("Commit conflicts per lane", perLane(COMMIT_CONFLICTS, "Sum")));
    row.add(graph("On-failure destination depth", onFailure.metricApproximateNumberOfMessagesVisible()));
    row.add(graph("Data files per table (maintenance)", tableDataFiles(config.sink().table()),
        tableDataFiles(config.sink().table() + "_rejects")));
    List<IWidget> perFunction = new ArrayList<>();
    List<DockerImageFunction> all = new ArrayList<>(functions.handlers());
    all.add(functions.childExecutor());
    for (DockerImageFunction fn : all) {
      String name = fn.getNode().getId();
      perFunction.add(GraphWidget.Builder.create()
          .title(name + ": invocations, errors, throttles")
          .left(List.of(fn.metricInvocations(sum5Min()), fn.metricErrors(sum5Min()), fn.metricThrottles(sum5Min())))
          .width(8)
          .build());
      perFunction.add(graph(name + ": duration p50/p99 (ms)",
          fn.metricDuration(MetricOptions.builder().statistic("p50").build()),
          fn.metricDuration(MetricOptions.builder().statistic("p99").build())));
    }
    Dashboard.Builder.create(this, "Dashboard")
        .dashboardName("spindrift-" + config.app())
        .widgets(List.of(row, perFunction))
        .build();
  }

  private static GraphWidget graph(String title, IMetric... metrics) {
    return GraphWidget.Builder.create().title(title).left(List.of(metrics)).width(8).build();
  }
}
