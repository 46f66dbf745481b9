package io.spindrift.protocol;

/**
 * What a scheduled roll-forward found and did: the app's head, how many commits were waiting to be published, how
 * many this call published, and the age of the oldest one that was waiting (0 when none was) — the figure the
 * "oldest unpublished commit" alarm watches.
 */
public record RollForward(long headSeq, long unpublished, int published, long oldestUnpublishedAgeMs) {}
