package io.spindrift.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.entry;

import com.amazonaws.services.kinesis.AmazonKinesis;
import com.amazonaws.services.kinesis.model.ExpiredIteratorException;
import com.amazonaws.services.kinesis.model.GetRecordsRequest;
import com.amazonaws.services.kinesis.model.GetShardIteratorRequest;
import com.amazonaws.services.kinesis.model.ShardIteratorType;
import com.amazonaws.services.lambda.runtime.events.KinesisEvent;
import com.amazonaws.services.lambda.runtime.events.StreamsEventResponse;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.spindrift.event.KinesisRecord;
import io.spindrift.examples.ClickstreamGenerator;
import io.spindrift.examples.LocalPipeline;
import io.spindrift.examples.LocalSources;
import io.spindrift.handler.KinesisHandler;
import io.spindrift.local.mapping.EventSources;
import io.spindrift.local.mapping.FailedBatch;
import io.spindrift.local.mapping.InProcessInvoker;
import io.spindrift.local.mapping.LambdaInvoker;
import io.spindrift.local.mapping.LaneState;
import io.spindrift.local.mapping.LocalEventSourceMapping;
import io.spindrift.local.mapping.MappingOptions;
import io.spindrift.runtime.SpindriftRuntime;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The local mapping follows Kinesis reshards and renews expired iterators as Lambda's mapping does, on kinesalite
 * (which supports SplitShard and MergeShards, not UpdateShardCount): every record reaches the handler exactly once,
 * and a partition key's records in a parent shard reach it before its records in the children.
 */
class LocalMappingShardLifecycleTest {
  @RegisterExtension
  final TestStreams streams = new TestStreams();
  private static final long TIMEOUT_MS = 240_000;
  private static final String REGION = "us-east-1";
  private static final int KEYS = 8;
  private static final Pattern EVENT_ID = Pattern.compile("\"event_id\":\"([^\"]+)\"");

  @Test
  void aShardSplitAfterTheStartIsReadOnlyOnceItsParentIsFinished() throws Exception {
    String app = TestPipeline.uniqueApp("split");
    SpindriftRuntime runtime = TestPipeline.runtime(app);
    AmazonKinesis kinesis = LocalPipeline.kinesis(TestPipeline.stack());
    streams.create(kinesis, app, 1);
    ClickstreamGenerator events = new ClickstreamGenerator(31, 0, System.currentTimeMillis());
    List<String> produced = put(kinesis, app, events, 300);
    RecordingFunction function = RecordingFunction.gatedOnFirstInvocation(handler(runtime));
    List<FailedBatch> failures = new CopyOnWriteArrayList<>();

    // the function is closed first: a failed assertion releases the held invocation before the mapping stops
    try (LocalEventSourceMapping mapping = EventSources.kinesis(kinesis, app, REGION, function,
            MappingOptions.defaults().withBatchSize(50), failures::add);
        function) {
      function.awaitFirstInvocation();
      kinesis.splitShard(app, shard(0), BigInteger.TWO.pow(127).toString());
      awaitActiveShards(kinesis, app, 3);
      produced.addAll(put(kinesis, app, events, 300));
      awaitLanes(mapping, Map.of(lane(app, 0), LaneState.READING, lane(app, 1), LaneState.WAITING_FOR_PARENTS,
          lane(app, 2), LaneState.WAITING_FOR_PARENTS));
      function.release();

      assertThat(mapping.awaitRecords(600, TIMEOUT_MS)).as("all records delivered").isTrue();
      assertThat(mapping.awaitIdle(TIMEOUT_MS)).isTrue();
      assertThat(mapping.delivered()).as("the closed parent is not read again").isEqualTo(600);
      assertThat(mapping.lanes()).containsExactly(entry(lane(app, 0), LaneState.FINISHED),
          entry(lane(app, 1), LaneState.READING), entry(lane(app, 2), LaneState.READING));
    }

    assertThat(failures).isEmpty();
    function.assertEachDeliveredOnce(produced);
    function.assertParentsFirstPerKey(Map.of(lane(app, 1), Set.of(lane(app, 0)), lane(app, 2), Set.of(lane(app, 0))));
    assertThat(function.deliveredLanes()).containsExactlyInAnyOrder(lane(app, 0), lane(app, 1), lane(app, 2));
    assertThat(TestPipeline.count(runtime, "it." + app)).isEqualTo(600);
    assertThat(TestPipeline.distinctEvents(runtime, "it." + app)).isEqualTo(600);
  }

  @Test
  void aShardMergedAfterTheStartIsReadOnlyOnceBothParentsAreFinished() throws Exception {
    String app = TestPipeline.uniqueApp("merge");
    SpindriftRuntime runtime = TestPipeline.runtime(app);
    AmazonKinesis kinesis = LocalPipeline.kinesis(TestPipeline.stack());
    streams.create(kinesis, app, 2);
    ClickstreamGenerator events = new ClickstreamGenerator(32, 0, System.currentTimeMillis());
    List<String> produced = put(kinesis, app, events, 400);
    RecordingFunction function = RecordingFunction.gatedOnFirstInvocation(handler(runtime));
    List<FailedBatch> failures = new CopyOnWriteArrayList<>();

    // the function is closed first: a failed assertion releases the held invocation before the mapping stops
    try (LocalEventSourceMapping mapping = EventSources.kinesis(kinesis, app, REGION, function,
            MappingOptions.defaults().withBatchSize(50), failures::add);
        function) {
      function.awaitFirstInvocation();
      kinesis.mergeShards(app, shard(0), shard(1));
      awaitActiveShards(kinesis, app, 3);
      produced.addAll(put(kinesis, app, events, 300));
      awaitLanes(mapping, Map.of(lane(app, 2), LaneState.WAITING_FOR_PARENTS));
      function.release();

      assertThat(mapping.awaitRecords(700, TIMEOUT_MS)).as("all records delivered").isTrue();
      assertThat(mapping.awaitIdle(TIMEOUT_MS)).isTrue();
      assertThat(mapping.delivered()).as("the closed parents are not read again").isEqualTo(700);
      assertThat(mapping.lanes()).containsExactly(entry(lane(app, 0), LaneState.FINISHED),
          entry(lane(app, 1), LaneState.FINISHED), entry(lane(app, 2), LaneState.READING));
    }

    assertThat(failures).isEmpty();
    function.assertEachDeliveredOnce(produced);
    function.assertParentsFirstPerKey(Map.of(lane(app, 2), Set.of(lane(app, 0), lane(app, 1))));
    assertThat(TestPipeline.count(runtime, "it." + app)).isEqualTo(700);
    assertThat(TestPipeline.distinctEvents(runtime, "it." + app)).isEqualTo(700);
  }

  @Test
  void anExpiredIteratorIsRenewedAfterTheLastDeliveredRecord() throws Exception {
    String app = TestPipeline.uniqueApp("expiry");
    SpindriftRuntime runtime = TestPipeline.runtime(app);
    AmazonKinesis real = LocalPipeline.kinesis(TestPipeline.stack());
    streams.create(real, app, 1);
    List<String> produced = put(real, app, new ClickstreamGenerator(33, 0, System.currentTimeMillis()), 300);
    List<GetShardIteratorRequest> iteratorRequests = new CopyOnWriteArrayList<>();
    AmazonKinesis kinesis = expiringSecondIterator(real, iteratorRequests);
    RecordingFunction function = new RecordingFunction(handler(runtime), false);
    List<FailedBatch> failures = new CopyOnWriteArrayList<>();

    try (LocalEventSourceMapping mapping = EventSources.kinesis(kinesis, app, REGION, function,
        MappingOptions.defaults().withBatchSize(100), failures::add)) {
      assertThat(mapping.awaitRecords(300, TIMEOUT_MS)).as("all records delivered").isTrue();
      assertThat(mapping.awaitIdle(TIMEOUT_MS)).isTrue();
      assertThat(mapping.delivered()).isEqualTo(300);
    }

    assertThat(failures).isEmpty();
    function.assertEachDeliveredOnce(produced);
    String lastOfFirstBatch = function.deliveries().get(99).sequenceNumber();
    assertThat(iteratorRequests).extracting(GetShardIteratorRequest::getShardIteratorType,
            GetShardIteratorRequest::getStartingSequenceNumber)
        .containsExactly(org.assertj.core.groups.Tuple.tuple(ShardIteratorType.TRIM_HORIZON.toString(), null),
            org.assertj.core.groups.Tuple.tuple(ShardIteratorType.AFTER_SEQUENCE_NUMBER.toString(),
                lastOfFirstBatch));
    assertThat(TestPipeline.count(runtime, "it." + app)).isEqualTo(300);
  }

  private static LambdaInvoker handler(SpindriftRuntime runtime) {
    return new InProcessInvoker<>(new KinesisHandler(runtime), KinesisEvent.class, StreamsEventResponse.class, 3);
  }

  /** Puts {@code count} events under {@link #KEYS} partition keys; returns their event ids in order. */
  private static List<String> put(AmazonKinesis kinesis, String stream, ClickstreamGenerator events, int count) {
    List<String> keys = new ArrayList<>();
    List<byte[]> payloads = new ArrayList<>();
    List<String> ids = new ArrayList<>();
    for (int i = 0; i < count; i++) {
      byte[] json = events.next().json();
      keys.add("k" + (i % KEYS));
      payloads.add(json);
      ids.add(eventId(json));
    }
    LocalSources.putRecords(kinesis, stream, keys, payloads);
    return ids;
  }

  private static String eventId(byte[] json) {
    Matcher matcher = EVENT_ID.matcher(new String(json, StandardCharsets.UTF_8));
    assertThat(matcher.find()).isTrue();
    return matcher.group(1);
  }

  private static String shard(int index) {
    return String.format("shardId-%012d", index);
  }

  private static String lane(String stream, int shard) {
    return KinesisRecord.lane(stream, shard(shard));
  }

  private static void awaitActiveShards(AmazonKinesis kinesis, String stream, int shards) throws InterruptedException {
    long deadline = System.currentTimeMillis() + 30_000;
    while (kinesis.listShards(new com.amazonaws.services.kinesis.model.ListShardsRequest().withStreamName(stream))
            .getShards().size() < shards
        || !"ACTIVE".equals(kinesis.describeStream(stream).getStreamDescription().getStreamStatus())) {
      assertThat(System.currentTimeMillis()).as("reshard of " + stream + " done").isLessThan(deadline);
      Thread.sleep(20);
    }
  }

  private static void awaitLanes(LocalEventSourceMapping mapping, Map<String, LaneState> expected)
      throws InterruptedException {
    long deadline = System.currentTimeMillis() + 60_000;
    while (!mapping.lanes().entrySet().containsAll(expected.entrySet())) {
      assertThat(System.currentTimeMillis()).as("lanes " + mapping.lanes() + " reach " + expected)
          .isLessThan(deadline);
      Thread.sleep(20);
    }
  }

  /**
   * The real client, except that the iterator used by the second GetRecords call expires then and stays expired,
   * as an iterator does on AWS when a batch outlasts it; records every GetShardIterator request.
   */
  private static AmazonKinesis expiringSecondIterator(AmazonKinesis real, List<GetShardIteratorRequest> requests) {
    AtomicInteger getRecordsCalls = new AtomicInteger();
    Set<String> expired = java.util.concurrent.ConcurrentHashMap.newKeySet();
    return (AmazonKinesis) Proxy.newProxyInstance(AmazonKinesis.class.getClassLoader(),
        new Class<?>[] {AmazonKinesis.class}, (proxy, method, args) -> {
          if (method.getName().equals("getShardIterator") && args[0] instanceof GetShardIteratorRequest request) {
            requests.add(request);
          }
          if (method.getName().equals("getRecords")) {
            String iterator = ((GetRecordsRequest) args[0]).getShardIterator();
            if (getRecordsCalls.incrementAndGet() == 2) {
              expired.add(iterator);
            }
            if (expired.contains(iterator)) {
              throw new ExpiredIteratorException("Iterator expired (test)");
            }
          }
          try {
            return method.invoke(real, args);
          } catch (InvocationTargetException e) {
            throw e.getCause();
          }
        });
  }

  /** One record as the handler received it, between two ticks of a clock shared by every invocation. */
  private record Delivery(String lane, String partitionKey, String sequenceNumber, String eventId, long startTick,
      long endTick) {}

  /**
   * Forwards to the handler and records what each successful invocation delivered; optionally holds the first
   * invocation until {@link #release()} (or close), so a test can reshard while a parent shard still has records to deliver.
   */
  private static final class RecordingFunction implements LambdaInvoker, AutoCloseable {
    private static final ObjectMapper JSON = new ObjectMapper();
    private final LambdaInvoker handler;
    private final boolean gated;
    private final CountDownLatch firstInvocation = new CountDownLatch(1);
    private final CountDownLatch released = new CountDownLatch(1);
    private final AtomicLong clock = new AtomicLong();
    private final List<Delivery> deliveries = new CopyOnWriteArrayList<>();

    RecordingFunction(LambdaInvoker handler, boolean gated) {
      this.handler = handler;
      this.gated = gated;
    }

    static RecordingFunction gatedOnFirstInvocation(LambdaInvoker handler) {
      return new RecordingFunction(handler, true);
    }

    @Override
    public String invoke(String eventJson) throws FunctionError {
      if (gated && firstInvocation.getCount() > 0) {
        firstInvocation.countDown();
        awaitQuietly(released);
      }
      long start = clock.incrementAndGet();
      String response = handler.invoke(eventJson);
      long end = clock.incrementAndGet();
      try {
        for (JsonNode record : JSON.readTree(eventJson).path("Records")) {
          String[] eventId = record.path("eventID").asText().split(":");
          String stream = record.path("eventSourceARN").asText().replaceFirst(".*:stream/", "");
          byte[] data = Base64.getDecoder().decode(record.path("kinesis").path("data").asText());
          deliveries.add(new Delivery(KinesisRecord.lane(stream, eventId[0]),
              record.path("kinesis").path("partitionKey").asText(), eventId[1], eventId(data), start, end));
        }
      } catch (java.io.IOException e) {
        throw new AssertionError("The mapping sent an event that is not JSON", e);
      }
      return response;
    }

    void awaitFirstInvocation() throws InterruptedException {
      assertThat(firstInvocation.await(TIMEOUT_MS, TimeUnit.MILLISECONDS)).as("first invocation").isTrue();
    }

    void release() {
      released.countDown();
    }

    /** Releases a held invocation, so a failed test does not leave the mapping waiting for it. */
    @Override
    public void close() {
      release();
    }

    List<Delivery> deliveries() {
      return deliveries;
    }

    Set<String> deliveredLanes() {
      return deliveries.stream().map(Delivery::lane).collect(Collectors.toSet());
    }

    void assertEachDeliveredOnce(List<String> produced) {
      assertThat(deliveries).extracting(Delivery::eventId).containsExactlyInAnyOrderElementsOf(produced);
      assertThat(deliveries.stream().map(d -> d.lane() + "@" + d.sequenceNumber()).distinct().count())
          .isEqualTo(produced.size());
    }

    /** Per partition key, every parent record's invocation ended before any child record's invocation began. */
    void assertParentsFirstPerKey(Map<String, Set<String>> parentsByChild) {
      parentsByChild.forEach((child, parents) -> {
        for (int k = 0; k < KEYS; k++) {
          String key = "k" + k;
          long parentsEnd = deliveries.stream().filter(d -> parents.contains(d.lane()) && d.partitionKey().equals(key))
              .mapToLong(Delivery::endTick).max().orElse(0);
          deliveries.stream().filter(d -> d.lane().equals(child) && d.partitionKey().equals(key))
              .mapToLong(Delivery::startTick).min()
              .ifPresent(childStart -> assertThat(childStart).as("first record of " + key + " in " + child)
                  .isGreaterThan(parentsEnd));
        }
      });
      assertThat(parentsByChild.keySet()).allMatch(child -> deliveries.stream().anyMatch(d -> d.lane().equals(child)));
    }

    private static void awaitQuietly(CountDownLatch latch) {
      try {
        latch.await(TIMEOUT_MS, TimeUnit.MILLISECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }
}
