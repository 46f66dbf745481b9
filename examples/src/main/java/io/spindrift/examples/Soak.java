package io.spindrift.examples;

import com.amazonaws.services.kinesis.AmazonKinesis;
import com.amazonaws.services.lambda.runtime.events.KafkaEvent;
import com.amazonaws.services.lambda.runtime.events.KinesisEvent;
import com.amazonaws.services.lambda.runtime.events.StreamsEventResponse;
import io.spindrift.config.Setting;
import io.spindrift.handler.KafkaBatchResponse;
import io.spindrift.handler.KinesisHandler;
import io.spindrift.handler.MskHandler;
import io.spindrift.local.LocalStack;
import io.spindrift.local.mapping.ContainerSpec;
import io.spindrift.local.mapping.EventSources;
import io.spindrift.local.mapping.FailedBatch;
import io.spindrift.local.mapping.FrozenContainers;
import io.spindrift.local.mapping.LambdaInvoker;
import io.spindrift.local.mapping.LocalEventSourceMapping;
import io.spindrift.local.mapping.MappingOptions;
import io.spindrift.protocol.RollForward;
import io.spindrift.runtime.SpindriftRuntime;
import java.io.PrintWriter;
import java.lang.management.ManagementFactory;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.Callable;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * The soak (issue 14): clickstream traffic at a steady rate into a local Kinesis stream and Kafka topic for a
 * number of minutes, through the local event-source mappings into containers that are child JVMs frozen between
 * invocations ({@link FrozenContainers}), while a chaos thread kills a random container with SIGKILL at a fixed
 * interval. Every minute it prints what was produced and landed, the batches, errors, kills and freezes, the
 * driver's heap and the containers' RSS; at the end it waits for every record to be delivered and prints records
 * lost and duplicated and the memory samples.
 *
 * <p>Exits 0 only when nothing was lost or duplicated, every record was delivered before the drain timeout, and
 * the largest container RSS over the last third of the run is less than 20 % above that over the second third;
 * 1 otherwise, 2 on bad options. Not part of the tests: {@code ./soak.sh}, README "Soak".
 */
@Command(name = "soak.sh", mixinStandardHelpOptions = true, sortOptions = false, usageHelpWidth = 110,
    description = {"Runs clickstream traffic over Kinesis and Kafka through frozen, randomly killed local Lambda",
        "containers into a table, and checks that nothing was lost or duplicated and memory did not grow."})
public final class Soak implements Callable<Integer> {
  private static final int LANES = 2;
  private static final double MALFORMED_SHARE = 0.01;
  private static final double MAX_RSS_GROWTH = 0.20;
  private static final List<String> CONTAINER_JVM = List.of("-Xmx1g", "-XX:+UseSerialGC");
  private static final int KEPT_ERRORS = 5;

  @Spec
  private CommandSpec spec;

  @Option(names = "--minutes", paramLabel = "N", defaultValue = "30",
      description = "Minutes of traffic (default ${DEFAULT-VALUE}).")
  private int minutes;

  @Option(names = "--rate", paramLabel = "N", defaultValue = "50",
      description = "Events per second into each source (default ${DEFAULT-VALUE}).")
  private int rate;

  @Option(names = "--format", paramLabel = "iceberg|delta|hudi", defaultValue = "iceberg",
      description = "Table format (SPINDRIFT_SINK_FORMAT; default ${DEFAULT-VALUE}).")
  private String format;

  @Option(names = "--kill-every", paramLabel = "SECONDS", defaultValue = "60",
      description = "Kill a random container with SIGKILL this often; 0: never (default ${DEFAULT-VALUE}).")
  private int killEverySeconds;

  @Option(names = "--batch-size", paramLabel = "N", defaultValue = "500",
      description = "The mappings' batch size (default ${DEFAULT-VALUE}).")
  private int batchSize;

  @Option(names = "--drain-timeout", paramLabel = "SECONDS", defaultValue = "900",
      description = "How long the mappings may take to deliver the rest once producing stops (default ${DEFAULT-VALUE}).")
  private int drainTimeoutSeconds;

  @Option(names = "--seed", paramLabel = "N", defaultValue = "14",
      description = "Seed of the events and of the choice of container to kill (default ${DEFAULT-VALUE}).")
  private long seed;

  @Option(names = "--set", paramLabel = "SPINDRIFT_X=VALUE",
      description = "Any Spindrift setting (repeatable), e.g. SPINDRIFT_PUBLISH=deferred.")
  private Map<String, String> settings = new LinkedHashMap<>();

  private final List<String> functionErrors = new CopyOnWriteArrayList<>();
  private final AtomicLong kills = new AtomicLong();
  private PrintWriter out;
  private long trafficStart;

  public static void main(String[] args) {
    CommandLine command = new CommandLine(new Soak())
        .setExecutionExceptionHandler((e, cmd, parsed) -> {
          cmd.getErr().println("Error: " + Demo.messages(e));
          return 1;
        });
    System.exit(command.execute(args));
  }

  @Override
  public Integer call() throws Exception {
    out = spec.commandLine().getOut();
    checkOptions();
    String app = "soak-" + System.currentTimeMillis() / 1000;
    out.printf(Locale.ROOT, "Spindrift soak: %d min, %d events/s into each of Kinesis and Kafka (%d lanes each), %s,"
        + " kill -9 a container every %s%n", minutes, rate, LANES, format,
        killEverySeconds == 0 ? "never" : killEverySeconds + " s");
    LocalStack stack = LocalStack.shared();
    try {
      out.println("Local stack up: " + stack.startupTimes());
      return run(stack, app) ? 0 : 1;
    } finally {
      stack.close();
    }
  }

  private boolean run(LocalStack stack, String app) throws Exception {
    Map<String, String> config = new LinkedHashMap<>();
    config.put(Setting.APP.key(), app);
    config.put(Setting.JOB.key(), Clickstream.class.getName());
    config.put(Setting.SINK_FORMAT.key(), format.toLowerCase(Locale.ROOT));
    config.putAll(settings);
    try (SpindriftRuntime runtime = SpindriftRuntime.create(LocalPipeline.config(stack, config))) {
      AmazonKinesis kinesis = LocalPipeline.kinesis(stack);
      LocalSources.createStream(kinesis, app, LANES);
      LocalSources.createTopic(stack.kafkaBootstrap(), app, LANES);
      SoakMemory memory = new SoakMemory();
      List<FailedBatch> failures = new CopyOnWriteArrayList<>();
      List<SoakProducer> producers = List.of(
          new SoakProducer("kinesis", SoakProducer.kinesis(LocalPipeline.kinesis(stack), app),
              new ClickstreamGenerator(seed, MALFORMED_SHARE, System.currentTimeMillis()), rate),
          new SoakProducer("kafka", SoakProducer.kafka(stack.kafkaBootstrap(), app),
              new ClickstreamGenerator(seed + 1, MALFORMED_SHARE, System.currentTimeMillis()), rate));
      boolean drained;
      long invocations;
      long errors;
      long freezes;
      try (FrozenContainers kinesisContainers = new FrozenContainers(spec(runtime, KinesisHandler.class,
              KinesisEvent.class, StreamsEventResponse.class), LANES);
          FrozenContainers kafkaContainers = new FrozenContainers(spec(runtime, MskHandler.class, KafkaEvent.class,
              KafkaBatchResponse.class), 1)) {
        out.println("Container logs: " + kinesisContainers.logDirectory() + ", " + kafkaContainers.logDirectory());
        List<FrozenContainers> pools = List.of(kinesisContainers, kafkaContainers);
        MappingOptions options = MappingOptions.defaults().withBatchSize(batchSize)
            .withBatchingWindow(Duration.ofSeconds(1)).withMaxRetries(5);
        try (LocalEventSourceMapping kinesisMapping = EventSources.kinesis(kinesis, app, stack.region(),
                recording(kinesisContainers), options, failures::add);
            LocalEventSourceMapping kafkaMapping = EventSources.kafka(stack.kafkaBootstrap(), app, stack.region(),
                recording(kafkaContainers), options, failures::add)) {
          List<LocalEventSourceMapping> mappings = List.of(kinesisMapping, kafkaMapping);
          trafficStart = System.currentTimeMillis();
          producers.forEach(SoakProducer::start);
          ScheduledExecutorService chaos = startChaos(pools);
          try {
            for (int minute = 1; minute <= minutes && producersHealthy(producers); minute++) {
              sleepUntil(trafficStart + TimeUnit.MINUTES.toMillis(minute));
              SoakMemory.Sample sample = memory.sample(minute, pids(pools));
              printMinute(runtime, sample, producers, mappings, pools);
            }
          } finally {
            chaos.shutdownNow();
            for (SoakProducer producer : producers) {
              producer.stop();
            }
          }
          drained = drain(producers, mappings);
          invocations = mappings.stream().mapToLong(LocalEventSourceMapping::invocations).sum();
          errors = mappings.stream().mapToLong(LocalEventSourceMapping::functionErrors).sum();
        }
        freezes = pools.stream().mapToLong(FrozenContainers::freezes).sum();
      } finally {
        kinesis.shutdown();
      }
      String rollForwardFailure = rollForward(runtime);
      return summarize(runtime, producers, memory, failures, drained, invocations, errors, freezes)
          && rollForwardFailure == null;
    }
  }

  /**
   * Publishes what is committed and not yet published, as the scheduled roll-forward does; returns why it failed
   * (a commit that cannot be published), or null.
   */
  private String rollForward(SpindriftRuntime runtime) {
    try {
      RollForward rolled = runtime.rollForward();
      out.printf(Locale.ROOT, "Roll-forward after the drain: head seq %d, %d commits were unpublished%n",
          rolled.headSeq(), rolled.unpublished());
      return null;
    } catch (RuntimeException e) {
      String why = firstLine(Demo.messages(e));
      out.println("SOAK FAILED: the roll-forward after the drain could not publish every commit: " + why);
      return why;
    }
  }

  private boolean producersHealthy(List<SoakProducer> producers) {
    for (SoakProducer producer : producers) {
      if (producer.failure() != null) {
        out.println("Producer " + producer.name() + " failed, stopping: " + Demo.messages(producer.failure()));
        return false;
      }
    }
    return true;
  }

  /** Kills a random live container, of either source, every --kill-every seconds. */
  private ScheduledExecutorService startChaos(List<FrozenContainers> pools) {
    ScheduledExecutorService chaos = Executors.newSingleThreadScheduledExecutor(r -> {
      Thread thread = new Thread(r, "soak-chaos");
      thread.setDaemon(true);
      return thread;
    });
    if (killEverySeconds > 0) {
      Random random = new Random(seed);
      chaos.scheduleAtFixedRate(() -> killOne(pools, random), killEverySeconds, killEverySeconds, TimeUnit.SECONDS);
    }
    return chaos;
  }

  private void killOne(List<FrozenContainers> pools, Random random) {
    int live = pools.stream().mapToInt(p -> p.pids().size()).sum();
    if (live == 0) {
      return;
    }
    int pick = random.nextInt(live);
    for (int i = 0; i < pools.size(); i++) {
      int size = pools.get(i).pids().size();
      if (pick < size) {
        long pid = pools.get(i).killOne(random);
        if (pid > 0) {
          kills.incrementAndGet();
          out.printf(Locale.ROOT, "  [%s] kill -9 %s container %d%n", elapsed(), i == 0 ? "kinesis" : "kafka", pid);
        }
        return;
      }
      pick -= size;
    }
  }

  private void printMinute(SpindriftRuntime runtime, SoakMemory.Sample sample, List<SoakProducer> producers,
      List<LocalEventSourceMapping> mappings, List<FrozenContainers> pools) {
    out.printf(Locale.ROOT, "[%s] produced kinesis %,d kafka %,d | %s | batches %,d, errors %d"
            + " | kills %d, freezes %,d | driver heap %,d MB | %d containers RSS sum %,d MB max %,d MB%n",
        elapsed(), producers.get(0).produced(), producers.get(1).produced(), tableCounts(runtime),
        mappings.stream().mapToLong(LocalEventSourceMapping::invocations).sum(),
        mappings.stream().mapToLong(LocalEventSourceMapping::functionErrors).sum(), kills.get(),
        pools.stream().mapToLong(FrozenContainers::freezes).sum(), sample.heapMb(), sample.containers(),
        sample.rssSumMb(), sample.rssMaxMb());
  }

  /** Rows in the table and the rejects, or why they could not be read (the final count decides the run). */
  private String tableCounts(SpindriftRuntime runtime) {
    RunReport tables = new RunReport(out, runtime, null);
    try {
      return String.format(Locale.ROOT, "table %,d + rejects %,d", count(tables.read(runtime.sink().table())),
          count(tables.read(runtime.rejectsTable())));
    } catch (RuntimeException e) {
      return "TABLE UNREADABLE (" + firstLine(Demo.messages(e)) + ")";
    }
  }

  /** Waits until each mapping delivered every record its source got, then until both are idle. */
  private boolean drain(List<SoakProducer> producers, List<LocalEventSourceMapping> mappings)
      throws InterruptedException {
    long deadline = System.currentTimeMillis() + TimeUnit.SECONDS.toMillis(drainTimeoutSeconds);
    out.printf(Locale.ROOT, "[%s] stopped producing; draining (at most %d s)%n", elapsed(), drainTimeoutSeconds);
    for (int i = 0; i < mappings.size(); i++) {
      long left = deadline - System.currentTimeMillis();
      if (left <= 0 || !mappings.get(i).awaitRecords(producers.get(i).produced(), left)) {
        out.printf(Locale.ROOT, "DRAIN TIMED OUT: the %s mapping delivered %,d of %,d records%n",
            producers.get(i).name(), mappings.get(i).delivered() + mappings.get(i).sentToDestination(),
            producers.get(i).produced());
        return false;
      }
    }
    for (LocalEventSourceMapping mapping : mappings) {
      if (!mapping.awaitIdle(Math.max(1, deadline - System.currentTimeMillis()))) {
        out.println("DRAIN TIMED OUT: a mapping still had a batch in flight");
        return false;
      }
    }
    out.printf(Locale.ROOT, "[%s] drained: every record delivered%n", elapsed());
    return true;
  }

  private boolean summarize(SpindriftRuntime runtime, List<SoakProducer> producers, SoakMemory memory,
      List<FailedBatch> failures, boolean drained, long invocations, long errors, long freezes) {
    SoakCount count;
    String unreadable = null;
    try {
      count = countTables(runtime, producers);
    } catch (RuntimeException e) {
      unreadable = firstLine(Demo.messages(e));
      count = new SoakCount(producers.stream().mapToLong(SoakProducer::produced).sum(), 0, 0, 0, 0);
    }
    CommitTotals commits = CommitTotals.read(runtime.config());
    long givenUp = failures.stream().mapToLong(FailedBatch::records).sum();
    double growth = SoakMemory.rssGrowth(memory.samples());
    out.println();
    out.println("=== Spindrift soak summary ===");
    line("traffic", String.format(Locale.ROOT, "%d min, kill -9 every %s, %s table %s", minutes,
        killEverySeconds == 0 ? "never" : killEverySeconds + " s", format, runtime.sink().table()));
    line("produced", String.format(Locale.ROOT, "%,d (kinesis %,d, kafka %,d; %,d malformed on purpose)",
        count.produced(), producers.get(0).produced(), producers.get(1).produced(),
        producers.stream().mapToLong(SoakProducer::malformed).sum()));
    line("records in", String.format(Locale.ROOT, "%,d committed in %,d commits (%,d redelivered records dropped)",
        commits.records(), commits.commits(), commits.duplicates()));
    if (unreadable != null) {
      line("table", "UNREADABLE: " + unreadable);
    }
    line("table rows", String.format(Locale.ROOT, "%,d (%,d distinct event ids)", count.rows(), count.distinctIds()));
    line("rejects", String.format(Locale.ROOT, "%,d (%,d distinct lane positions)", count.rejects(),
        count.distinctRejects()));
    line("batches", String.format(Locale.ROOT, "%,d invocations, %,d function errors (retried), %,d to the"
        + " failure destination", invocations, errors, givenUp));
    functionErrors.forEach(e -> out.println("    " + firstLine(e)));
    line("chaos", String.format(Locale.ROOT, "%d containers killed, %,d freezes", kills.get(), freezes));
    line("lost", unreadable != null ? "unknown" : String.format(Locale.ROOT, "%,d", count.lost()));
    line("duplicated", unreadable != null ? "unknown" : String.format(Locale.ROOT, "%,d", count.duplicated()));
    printMemory(memory.samples());
    line("RSS growth", SoakMemory.describe(growth) + " (max over the last third vs the second third; limit +"
        + Math.round(MAX_RSS_GROWTH * 100) + " %)");
    List<String> problems = new ArrayList<>();
    if (!drained) {
      problems.add("the mappings did not deliver every record within " + drainTimeoutSeconds + " s");
    }
    if (unreadable != null) {
      problems.add("the table could not be read, lost and duplicated are unknown: " + unreadable);
    } else if (!count.exactlyOnce()) {
      problems.add(count.lost() + " lost, " + count.duplicated() + " duplicated");
    }
    if (growth >= MAX_RSS_GROWTH) {
      problems.add("container RSS grew " + SoakMemory.describe(growth) + " after warm-up");
    }
    producers.stream().filter(p -> p.failure() != null)
        .forEach(p -> problems.add("producer " + p.name() + " failed: " + Demo.messages(p.failure())));
    if (problems.isEmpty()) {
      out.println("SOAK PASSED: nothing lost or duplicated, no memory growth after warm-up.");
    } else {
      problems.forEach(p -> out.println("SOAK FAILED: " + p));
    }
    out.flush();
    return problems.isEmpty();
  }

  private SoakCount countTables(SpindriftRuntime runtime, List<SoakProducer> producers) {
    RunReport tables = new RunReport(out, runtime, null);
    Dataset<Row> table = tables.read(runtime.sink().table());
    Dataset<Row> rejects = tables.read(runtime.rejectsTable());
    long produced = producers.stream().mapToLong(SoakProducer::produced).sum();
    return new SoakCount(produced, count(table), table == null ? 0 : table.select("event_id").distinct().count(),
        count(rejects), rejects == null ? 0 : rejects.select("lane", "position").distinct().count());
  }

  private void printMemory(List<SoakMemory.Sample> samples) {
    out.println("memory samples:");
    out.println("  minute  driver heap MB  containers  RSS sum MB  RSS max MB");
    for (SoakMemory.Sample s : samples) {
      out.printf(Locale.ROOT, "  %6d  %,14d  %10d  %,10d  %,10d%n", s.minute(), s.heapMb(), s.containers(),
          s.rssSumMb(), s.rssMaxMb());
    }
  }

  /** Invokes the containers, keeping the first few function errors for the summary. */
  private LambdaInvoker recording(FrozenContainers containers) {
    return eventJson -> {
      try {
        return containers.invoke(eventJson);
      } catch (LambdaInvoker.FunctionError e) {
        if (functionErrors.size() < KEPT_ERRORS) {
          functionErrors.add(e.getMessage());
        }
        throw e;
      }
    };
  }

  /**
   * Containers run the real handler configured from the environment, as Lambda's do, with the driver's settings
   * and the driver's {@code --add-opens} options (Spark needs them on Java 17).
   */
  private static ContainerSpec spec(SpindriftRuntime runtime, Class<?> handler, Class<?> eventType,
      Class<?> responseType) {
    Map<String, String> environment = new HashMap<>(runtime.config().asMap());
    environment.put("AWS_ACCESS_KEY_ID", "local");
    environment.put("AWS_SECRET_ACCESS_KEY", "local");
    environment.put("SPARK_LOCAL_IP", "127.0.0.1");
    List<String> jvmOptions = new ArrayList<>(CONTAINER_JVM);
    ManagementFactory.getRuntimeMXBean().getInputArguments().stream()
        .filter(arg -> arg.startsWith("--add-opens") || arg.startsWith("-Djdk.reflect."))
        .forEach(jvmOptions::add);
    return ContainerSpec.of(handler.getName(), eventType, responseType, environment, jvmOptions);
  }

  private static List<Long> pids(List<FrozenContainers> pools) {
    List<Long> pids = new ArrayList<>();
    pools.forEach(pool -> pids.addAll(pool.pids()));
    return pids;
  }

  private static long count(Dataset<Row> table) {
    return table == null ? 0 : table.count();
  }

  private static void sleepUntil(long when) throws InterruptedException {
    long left = when - System.currentTimeMillis();
    if (left > 0) {
      Thread.sleep(left);
    }
  }

  private String elapsed() {
    long seconds = (System.currentTimeMillis() - trafficStart) / 1000;
    return String.format(Locale.ROOT, "%2d:%02d", seconds / 60, seconds % 60);
  }

  private void line(String label, String value) {
    out.printf(Locale.ROOT, "%-14s %s%n", label, value);
  }

  private static String firstLine(String message) {
    String line = message == null ? "" : message.lines().findFirst().orElse("");
    return line.length() <= 200 ? line : line.substring(0, 197) + "...";
  }

  private void checkOptions() {
    check(minutes >= 1, "--minutes", minutes, "at least 1");
    check(rate >= 1, "--rate", rate, "at least 1 event/s");
    check(format.matches("(?i)iceberg|delta|hudi"), "--format", format, "iceberg, delta or hudi");
    check(killEverySeconds >= 0, "--kill-every", killEverySeconds, "0 (never) or more seconds");
    check(batchSize >= 1 && batchSize <= 10_000, "--batch-size", batchSize, "1 to 10000");
    check(drainTimeoutSeconds >= 1, "--drain-timeout", drainTimeoutSeconds, "at least 1 second");
    for (String key : settings.keySet()) {
      check(key.startsWith("SPINDRIFT_"), "--set", key, "a SPINDRIFT_* setting");
    }
  }

  private void check(boolean ok, String option, Object value, String expected) {
    if (!ok) {
      throw new CommandLine.ParameterException(spec.commandLine(),
          "Invalid " + option + ": '" + value + "' (" + expected + ")");
    }
  }
}
