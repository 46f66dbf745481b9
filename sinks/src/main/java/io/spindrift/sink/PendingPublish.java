package io.spindrift.sink;

/** A committed batch's output for one table, waiting to be published: its tag and its stage ({@code null}: none). */
public record PendingPublish(CommitTag tag, String ref) {}
