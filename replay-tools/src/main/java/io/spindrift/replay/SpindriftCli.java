package io.spindrift.replay;

import java.lang.reflect.Constructor;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.IFactory;

/**
 * The {@code spindrift} command: {@code replay} (backfill a range of a stream through an app's exactly-once
 * runtime), {@code batch} (the app's job over S3 objects, committed once), {@code status} (an app's lanes,
 * positions and lag) and {@code maintain} (table maintenance, once). Exit status: 0 success, 1 a failure while
 * running, 2 a bad argument (the message names it).
 */
@Command(name = "spindrift", mixinStandardHelpOptions = true, version = "spindrift 0.1.0",
    subcommands = {ReplayCommand.class, BatchCommand.class, StatusCommand.class, MaintainCommand.class,
        CommandLine.HelpCommand.class},
    synopsisSubcommandLabel = "COMMAND",
    description = {"Operate Spindrift apps: Spark Structured Streaming micro-batches on AWS Lambda, exactly once "
        + "into Iceberg, Delta or Hudi tables.", ""},
    commandListHeading = "%nCommands:%n",
    footerHeading = "%nEnvironment:%n",
    footer = {"  Settings come from the same SPINDRIFT_* variables (or SPINDRIFT_CONFIG_FILE) as the deployed "
        + "function: SPINDRIFT_APP, SPINDRIFT_JOB, SPINDRIFT_COMMIT_TABLE, SPINDRIFT_REGION, endpoints and keys.",
        "  SPINDRIFT_KINESIS_ENDPOINT and SPINDRIFT_KAFKA_BOOTSTRAP name the stream's service.", "",
        "Exit status: 0 done, 1 failed while running, 2 bad argument.", "",
        "See 'spindrift help COMMAND' for a command's options."})
public final class SpindriftCli implements Runnable {
  static final int FAILED = 1;
  static final int BAD_ARGUMENT = 2;

  @CommandLine.Spec
  CommandLine.Model.CommandSpec spec;

  @Override
  public void run() {
    throw new CommandLine.ParameterException(spec.commandLine(),
        "a command is needed: replay, batch, status or maintain");
  }

  public static void main(String[] args) {
    quietLogs();
    System.exit(run(CliEnvironment.system(), args));
  }

  /**
   * Runs the command line {@code args} with {@code environment} as its environment variables, printing to {@code
   * out} and {@code err}; returns the exit status (scripts and tests run the CLI in their own JVM this way).
   */
  public static int run(java.util.Map<String, String> environment, java.io.PrintStream out, java.io.PrintStream err,
      String... args) {
    return run(new CliEnvironment(environment, out, err), args);
  }

  static int run(CliEnvironment env, String... args) {
    CommandLine cli = new CommandLine(new SpindriftCli(), factory(env));
    cli.setOut(new java.io.PrintWriter(env.out(), true));
    cli.setErr(new java.io.PrintWriter(env.err(), true));
    cli.setUsageHelpAutoWidth(true);
    cli.setParameterExceptionHandler((e, arguments) -> {
      CommandLine command = e.getCommandLine();
      command.getErr().println(command.getCommandName() + ": " + e.getMessage());
      command.getErr().println("Try '" + command.getCommandSpec().qualifiedName() + " --help' for more information.");
      return BAD_ARGUMENT;
    });
    cli.setExecutionExceptionHandler((e, command, parsed) -> {
      if (e instanceof BadArgument) {
        command.getErr().println(command.getCommandName() + ": " + e.getMessage());
        command.getErr().println("Try '" + command.getCommandSpec().qualifiedName() + " --help' for more information.");
        return BAD_ARGUMENT;
      }
      command.getErr().println(command.getCommandName() + ": failed: " + e.getMessage());
      e.printStackTrace(new java.io.PrintWriter(command.getErr(), true));
      return FAILED;
    });
    return cli.execute(args);
  }

  /** Commands get the environment through a constructor taking it. */
  private static IFactory factory(CliEnvironment env) {
    IFactory defaults = CommandLine.defaultFactory();
    return new IFactory() {
      @Override
      public <K> K create(Class<K> type) throws Exception {
        try {
          Constructor<K> constructor = type.getDeclaredConstructor(CliEnvironment.class);
          return constructor.newInstance(env);
        } catch (NoSuchMethodException none) {
          return defaults.create(type);
        }
      }
    };
  }

  /** Spark and the SDKs log at INFO; a CLI shows warnings and its own output only. */
  private static void quietLogs() {
    org.apache.logging.log4j.core.config.Configurator.setRootLevel(org.apache.logging.log4j.Level.WARN);
  }
}
