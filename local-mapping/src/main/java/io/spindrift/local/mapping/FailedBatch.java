package io.spindrift.local.mapping;

import java.util.List;

/**
 * What the on-failure destination receives for records the mapping gave up on (retries exhausted or too old):
 * like AWS's invocation record, it names the lanes and positions, not the payloads.
 */
public record FailedBatch(String reason, List<String> lanes, String firstPosition, String lastPosition, int records,
    String error) {}
