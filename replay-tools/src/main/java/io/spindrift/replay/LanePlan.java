package io.spindrift.replay;

import java.util.List;

/**
 * One lane of a replay: its Spindrift lane name ({@code kinesis:<stream>/<shard>} or {@code kafka:<topic>-<n>}),
 * the source's own id for it (shard id or partition number), the lanes that must be replayed before it (a
 * resharded Kinesis stream's parents) and, when the source knows it, how many records the range holds (-1:
 * unknown until read).
 */
record LanePlan(String lane, String sourceId, List<String> parents, long knownRecords) {
  LanePlan {
    parents = List.copyOf(parents);
  }
}
