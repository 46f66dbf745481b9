package io.spindrift.local.mapping;

import com.amazonaws.services.kinesis.AmazonKinesis;
import com.amazonaws.services.kinesis.model.ListShardsRequest;
import com.amazonaws.services.kinesis.model.ListShardsResult;
import com.amazonaws.services.kinesis.model.Shard;
import io.spindrift.event.KinesisRecord;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

/**
 * The shards of one Kinesis stream as lanes (ListShards, every page): open and closed shards still within
 * retention, each with the shard it was split from or the two it was merged from.
 */
final class KinesisShards implements EventSource {
  private final AmazonKinesis kinesis;
  private final String stream;
  private final String region;
  private final String account;

  KinesisShards(AmazonKinesis kinesis, String stream, String region, String account) {
    this.kinesis = kinesis;
    this.stream = stream;
    this.region = region;
    this.account = account;
  }

  @Override
  public List<Lane> lanes() {
    List<Lane> lanes = new ArrayList<>();
    ListShardsRequest request = new ListShardsRequest().withStreamName(stream);
    while (request != null) {
      ListShardsResult page = kinesis.listShards(request);
      page.getShards().forEach(shard -> lanes.add(lane(shard)));
      request = page.getNextToken() == null ? null : new ListShardsRequest().withNextToken(page.getNextToken());
    }
    return lanes;
  }

  private Lane lane(Shard shard) {
    List<String> parents = Stream.of(shard.getParentShardId(), shard.getAdjacentParentShardId())
        .filter(id -> id != null && !id.isEmpty())
        .map(id -> KinesisRecord.lane(stream, id))
        .toList();
    return new Lane(KinesisRecord.lane(stream, shard.getShardId()), parents);
  }

  @Override
  public KinesisPoller open(Lane lane) {
    String shardId = lane.name().substring(lane.name().lastIndexOf('/') + 1);
    return new KinesisPoller(kinesis, stream, shardId, region, account);
  }
}
