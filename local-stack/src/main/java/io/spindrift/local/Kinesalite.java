package io.spindrift.local;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.List;

/**
 * kinesalite (npm), in memory, bound to 127.0.0.1, run by Node through {@code kinesalite-supervised.js}, which
 * exits when this JVM is gone. It is installed on first use into {@code local-stack/.kinesis-emulator/} by the
 * project's {@code install-kinesis-emulator.sh}.
 *
 * <p>Clients must turn CBOR off ({@code aws.cborEnabled=false}), which {@link LocalStack} does for this JVM.
 */
final class Kinesalite {
  static final String NAME = "kinesis";
  private static final String WRAPPER = "kinesalite-supervised.js";
  private static final Duration INSTALL_TIMEOUT = Duration.ofMinutes(5);

  private Kinesalite() {}

  static LocalService start(Path workDir, Duration timeout) {
    Path packageDir = installed(workDir);
    int port = Loopback.freePort();
    String endpoint = "http://" + Loopback.HOST + ":" + port;
    Path dir = WorkFiles.create(workDir.resolve(NAME));
    long launchedAt = System.nanoTime();
    ChildProcess process = ChildProcess.start(NAME, List.of("node", wrapper(dir).toString(),
        Long.toString(ProcessHandle.current().pid()), packageDir.toString(), "--port", Integer.toString(port),
        "--createStreamMs", "0", "--deleteStreamMs", "0", "--updateStreamMs", "0",
        // kinesalite's default is 10 open shards for the whole emulator: the test JVM's suites share one stack
        "--shardLimit", "1000"), dir);
    return LocalService.awaitReady(NAME, endpoint, process, launchedAt, timeout,
        () -> Loopback.postAwsJson(endpoint, "kinesis", "Kinesis_20131202.ListStreams",
            "application/x-amz-json-1.1") == 200);
  }

  /** The kinesalite package directory, running the install script first if it is missing. */
  private static synchronized Path installed(Path workDir) {
    Path moduleDir = RepoRoot.locate().resolve("local-stack");
    Path emulatorDir = moduleDir.resolve(".kinesis-emulator");
    Path packageDir = emulatorDir.resolve("node_modules").resolve("kinesalite");
    if (Files.exists(packageDir.resolve("cli.js"))) {
      return packageDir;
    }
    WorkFiles.create(emulatorDir);
    try (FileChannel lockFile = FileChannel.open(emulatorDir.resolve(".install.lock"),
            StandardOpenOption.CREATE, StandardOpenOption.WRITE);
         FileLock lock = lockFile.lock()) {
      if (!Files.exists(packageDir.resolve("cli.js"))) {
        Path script = moduleDir.resolve("install-kinesis-emulator.sh");
        ChildProcess.start(NAME + "-install",
                List.of("bash", script.toString(), ServiceVersions.of("kinesalite.version")), workDir)
            .awaitSuccessfulExit(INSTALL_TIMEOUT);
      }
      return packageDir;
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot install kinesalite into " + emulatorDir, e);
    }
  }

  private static Path wrapper(Path dir) {
    Path target = dir.resolve(WRAPPER);
    try (InputStream in = Kinesalite.class.getResourceAsStream(WRAPPER)) {
      if (in == null) {
        throw new IllegalStateException(WRAPPER + " is missing beside " + Kinesalite.class.getName());
      }
      Files.copy(in, target);
      return target;
    } catch (IOException e) {
      throw new UncheckedIOException("Cannot write " + target, e);
    }
  }
}
