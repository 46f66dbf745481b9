package io.spindrift.replay;

import io.spindrift.archive.BatchArchive;
import io.spindrift.event.SourceKind;
import io.spindrift.event.SourceRecord;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * An app's S3 archive of committed input ({@link BatchArchive}): the stream as it was, after its retention has
 * dropped it. Lanes are the archived ones, in name order (a resharded stream's children have higher shard ids
 * than their parents, so {@code --parallelism 1} replays parents first; the archive keeps no parent links). Lane
 * positions and times bound the range as for the stream itself.
 */
final class ArchiveSource implements ReplaySource {
  private final BatchArchive archive;
  private final String app;
  private final SourceKind kind;
  private final List<String> lanes;

  private ArchiveSource(BatchArchive archive, String app, SourceKind kind, List<String> lanes) {
    this.archive = archive;
    this.app = app;
    this.kind = kind;
    this.lanes = lanes;
  }

  /**
   * The archive of {@code app}.
   *
   * @throws IllegalArgumentException naming the app when nothing is archived for it
   */
  static ArchiveSource open(BatchArchive archive, String app) {
    List<String> lanes = new ArrayList<>(archive.lanes(app));
    if (lanes.isEmpty()) {
      throw new IllegalArgumentException("nothing is archived for app '" + app + "' (under " + app + "/archive/)");
    }
    lanes.sort(null);
    return new ArchiveSource(archive, app, lanes.get(0).startsWith("kinesis:") ? SourceKind.KINESIS
        : SourceKind.KAFKA, lanes);
  }

  @Override
  public SourceKind kind() {
    return kind;
  }

  @Override
  public String name() {
    return app + "/archive";
  }

  @Override
  public List<LanePlan> plan(RangeSpec range) {
    List<LanePlan> plans = new ArrayList<>();
    for (String lane : lanes) {
      plans.add(new LanePlan(lane, sourceId(lane), List.of(), -1));
    }
    return plans;
  }

  /** The id a user names a lane by: the shard id or the partition number. */
  private static String sourceId(String lane) {
    return lane.startsWith("kinesis:") ? lane.substring(lane.lastIndexOf('/') + 1)
        : lane.substring(lane.lastIndexOf('-') + 1);
  }

  @Override
  public LaneReader open(LanePlan lane, RangeSpec range, String resumeAfter) {
    String start = range.startPositions().get(lane.sourceId());
    String after = resumeAfter != null ? resumeAfter
        : start == null ? null : new java.math.BigInteger(start).subtract(java.math.BigInteger.ONE).toString();
    List<SourceRecord> records = new ArrayList<>();
    long startMs = range.startTime() == null ? Long.MIN_VALUE : range.startTime().toEpochMilli();
    long endMs = range.endTime() == null ? Long.MAX_VALUE : range.endTime().toEpochMilli();
    for (SourceRecord record : archive.read(app, lane.lane(), after, range.endPositions().get(lane.sourceId()))) {
      if (record.timestampMs() >= endMs) {
        break;
      }
      if (record.timestampMs() >= startMs) {
        records.add(record);
      }
    }
    return new ListReader(records);
  }

  @Override
  public Map<String, Lag> lag(Map<String, String> positions) {
    Map<String, Lag> out = new LinkedHashMap<>();
    lanes.forEach(lane -> out.put(lane, new Lag(null, null, null, false)));
    return out;
  }

  @Override
  public void close() {}

  private static final class ListReader implements LaneReader {
    private final List<SourceRecord> records;
    private int next;

    ListReader(List<SourceRecord> records) {
      this.records = records;
    }

    /**
     * Up to {@code max} records, or more to finish a position: the user records of one KPL aggregate share its
     * position and must reach one batch (a batch commits the position; a later batch's records at it are dropped).
     */
    @Override
    public List<SourceRecord> next(int max) {
      int to = Math.min(records.size(), next + max);
      while (to > next && to < records.size()
          && records.get(to).position().equals(records.get(to - 1).position())) {
        to++;
      }
      List<SourceRecord> out = records.subList(next, to);
      next = to;
      return List.copyOf(out);
    }

    @Override
    public boolean finished() {
      return next >= records.size();
    }

    @Override
    public void close() {}
  }
}
