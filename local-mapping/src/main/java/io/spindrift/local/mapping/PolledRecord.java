package io.spindrift.local.mapping;

import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * A record the local mapping has read from a stream: its lane and position (for retries and checkpoints), its
 * arrival time (for max record age), and its JSON exactly as it appears inside the AWS event.
 */
public record PolledRecord(String lane, String position, long arrivalMs, int bytes, ObjectNode json) {}
