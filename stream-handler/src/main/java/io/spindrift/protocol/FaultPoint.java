package io.spindrift.protocol;

/** Named points of the commit protocol where fault tests inject a crash (CONVENTIONS: fault tests). */
public enum FaultPoint {
  BEFORE_STAGE,
  AFTER_STAGE,
  AFTER_COMMIT,
  MID_PUBLISH,
  /** During publication, once a commit's state rows are written and before the buckets' markers are raised. */
  MID_STATE_APPLY
}
