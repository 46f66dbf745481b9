package io.spindrift.it;

import com.amazonaws.services.lambda.runtime.events.KinesisEvent;
import com.amazonaws.services.lambda.runtime.events.StreamsEventResponse;
import io.spindrift.config.SpindriftConfig;
import io.spindrift.handler.KinesisHandler;
import io.spindrift.local.mapping.InProcessInvoker;
import io.spindrift.runtime.SpindriftRuntime;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * A new container in a new JVM: reads its settings from the environment, as Lambda does, invokes the Kinesis
 * handler once with the event in the file named by its argument, prints the response and exits.
 */
public final class FreshJvmInvocation {
  private FreshJvmInvocation() {}

  public static void main(String[] args) throws Exception {
    String event = Files.readString(Path.of(args[0]));
    SpindriftRuntime runtime = SpindriftRuntime.create(SpindriftConfig.fromEnvironment());
    String response = new InProcessInvoker<>(new KinesisHandler(runtime), KinesisEvent.class,
        StreamsEventResponse.class, 1).invoke(event);
    System.out.println("RESPONSE " + response);
    System.exit(0);
  }
}
