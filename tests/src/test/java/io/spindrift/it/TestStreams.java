package io.spindrift.it;

import com.amazonaws.services.kinesis.AmazonKinesis;
import com.amazonaws.services.kinesis.model.ResourceNotFoundException;
import io.spindrift.examples.LocalSources;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * Kinesis streams a test creates on the shared kinesalite, deleted after the test: kinesalite allows 10 open shards
 * in all (its {@code --shardLimit}), and every test JVM shares one emulator.
 */
final class TestStreams implements AfterEachCallback {
  private final List<Created> created = new ArrayList<>();

  /** Creates {@code stream} with {@code shards} shards and waits until it is ACTIVE. */
  void create(AmazonKinesis kinesis, String stream, int shards) throws InterruptedException {
    created.add(new Created(kinesis, stream));
    LocalSources.createStream(kinesis, stream, shards);
  }

  @Override
  public void afterEach(ExtensionContext context) throws InterruptedException {
    for (Created stream : created) {
      stream.delete();
    }
    created.clear();
  }

  private record Created(AmazonKinesis kinesis, String name) {
    void delete() throws InterruptedException {
      long deadline = System.currentTimeMillis() + 30_000;
      try {
        kinesis.deleteStream(name);
        while (System.currentTimeMillis() < deadline) {
          kinesis.describeStream(name);
          Thread.sleep(20);
        }
        throw new IllegalStateException("Kinesis stream " + name + " was not deleted within 30 s");
      } catch (ResourceNotFoundException gone) {
        // deleted: its shards no longer count against the emulator's limit
      }
    }
  }
}
