package io.spindrift.examples;

import com.amazonaws.services.kinesis.AmazonKinesis;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;

/**
 * One source's producer thread of the soak: clickstream events at a steady rate (caught up every tick, so a slow
 * put does not lower the rate), counted once the stream or broker acknowledged them. A put that fails stops the
 * producer and is reported by {@link #failure()}: the soak counts only acknowledged events as produced.
 */
final class SoakProducer implements Runnable {
  private static final long TICK_MS = 100;
  private static final int MAX_PER_TICK = 2_000;

  /** Puts events into one source and returns once they are acknowledged. */
  interface Target extends AutoCloseable {
    void put(List<ClickstreamGenerator.Event> events) throws Exception;

    @Override
    void close();
  }

  private final String name;
  private final Target target;
  private final ClickstreamGenerator generator;
  private final double perSecond;
  private final AtomicLong produced = new AtomicLong();
  private final AtomicLong malformed = new AtomicLong();
  private final Thread thread;
  private volatile boolean running = true;
  private volatile Exception failure;

  SoakProducer(String name, Target target, ClickstreamGenerator generator, double perSecond) {
    this.name = name;
    this.target = target;
    this.generator = generator;
    this.perSecond = perSecond;
    this.thread = new Thread(this, "soak-producer-" + name);
    thread.setDaemon(true);
  }

  /** Into a Kinesis stream (PutRecords, retrying throttled entries). */
  static Target kinesis(AmazonKinesis kinesis, String stream) {
    return new Target() {
      @Override
      public void put(List<ClickstreamGenerator.Event> events) {
        LocalSources.putRecords(kinesis, stream, events.stream().map(ClickstreamGenerator.Event::key).toList(),
            events.stream().map(ClickstreamGenerator.Event::json).toList());
      }

      @Override
      public void close() {
        kinesis.shutdown();
      }
    };
  }

  /** Into a Kafka topic (acks=all; waits for every send). */
  static Target kafka(String bootstrap, String topic) {
    KafkaProducer<byte[], byte[]> producer = LocalSources.producer(bootstrap);
    return new Target() {
      @Override
      public void put(List<ClickstreamGenerator.Event> events) throws InterruptedException, ExecutionException {
        List<Future<RecordMetadata>> sent = new ArrayList<>();
        for (ClickstreamGenerator.Event event : events) {
          sent.add(producer.send(new ProducerRecord<>(topic, event.key().getBytes(java.nio.charset.StandardCharsets.UTF_8),
              event.json())));
        }
        producer.flush();
        for (Future<RecordMetadata> future : sent) {
          future.get();
        }
      }

      @Override
      public void close() {
        producer.close();
      }
    };
  }

  void start() {
    thread.start();
  }

  @Override
  public void run() {
    long started = System.nanoTime();
    try {
      while (running) {
        double seconds = (System.nanoTime() - started) / 1e9;
        int due = (int) Math.min(MAX_PER_TICK, (long) (seconds * perSecond) - produced.get());
        if (due > 0) {
          List<ClickstreamGenerator.Event> events = new ArrayList<>(due);
          for (int i = 0; i < due; i++) {
            events.add(generator.next());
          }
          target.put(events);
          produced.addAndGet(due);
          malformed.addAndGet(events.stream().filter(ClickstreamGenerator.Event::malformed).count());
        }
        Thread.sleep(TICK_MS);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (Exception e) {
      failure = e;
    }
  }

  /** Stops producing and waits for the put in flight; returns the events acknowledged. */
  long stop() throws InterruptedException {
    running = false;
    thread.join(TimeUnit.MINUTES.toMillis(2));
    target.close();
    return produced.get();
  }

  String name() {
    return name;
  }

  long produced() {
    return produced.get();
  }

  long malformed() {
    return malformed.get();
  }

  /** Why the producer stopped early, or null. */
  Exception failure() {
    return failure;
  }
}
