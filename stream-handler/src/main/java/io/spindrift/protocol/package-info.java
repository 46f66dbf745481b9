/**
 * The exactly-once commit protocol of DESIGN §5, in one place. Read {@link io.spindrift.protocol.CommitProtocol}
 * top to bottom: its {@code process} takes a batch through the six steps (read, roll forward, run, commit, publish,
 * respond), each a method of that name. Around it:
 * <ul>
 *   <li>{@link io.spindrift.commit.CommitLog} (in state-store-dynamodb): the log behind a small interface, durable in
 *       DynamoDB or in memory for tests; its entries are immutable {@link io.spindrift.commit.CommitRecord}s;</li>
 *   <li>{@link io.spindrift.protocol.MicroBatch}: step 3 as the protocol sees it (the runtime's Spark query);</li>
 *   <li>{@code Publishing}: inline or deferred publishing, two small strategies over one {@code Publication}
 *       (group commit of a backlog, state beside table, advisory watermark);</li>
 *   <li>{@code StateCommits}: how a stateful batch's state changes travel in its commit and are applied once;</li>
 *   <li>{@link io.spindrift.protocol.FaultPoint}: the named crash points fault tests arm.</li>
 * </ul>
 * The handlers, the local event-source mapping, fan-out and the replay CLI are interchangeable "hows" over this one
 * protocol. docs/PROTOCOL.md walks a batch through it with the crash points named.
 */
package io.spindrift.protocol;
