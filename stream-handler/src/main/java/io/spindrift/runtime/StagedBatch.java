package io.spindrift.runtime;

import io.spindrift.sink.StagedOutput;

/** What one micro-batch staged: the table's output and the rejects. */
record StagedBatch(StagedOutput table, StagedOutput rejects) {}
