package io.spindrift.protocol;

/**
 * What step 5 of one invocation did about its commit: {@link #PUBLISHED} it (with every other commit waiting, as
 * one group), found it {@link #PUBLISHED_BY_ANOTHER} invocation (after waiting for it, or at once), returned with it
 * {@link #UNPUBLISHED} (the invocation's time ran short while another held the publish claim: the commit is durable
 * and the next roll-forward publishes it), {@link #DEFERRED} it to the container's publisher thread, or had
 * {@link #NOTHING} to publish (every record a duplicate, or already in the table).
 */
public enum PublishOutcome {
  PUBLISHED,
  PUBLISHED_BY_ANOTHER,
  UNPUBLISHED,
  DEFERRED,
  NOTHING
}
