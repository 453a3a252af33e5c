/**
 * Cluster mode's hook into the store. There, a commit is durable once the partitions' replicated logs
 * hold it, not once the node's disk does: the store hands each commit's writes, grouped by partition,
 * to a CommitLog, which appends them and then has the store apply them (`LmdbStore.applyLogged`), so
 * that the local LMDB is a materialization of the logs, in log order. Defined here, implemented in
 * src/cluster/, so that storage imports nothing of ours.
 */

/** A write as the store keeps it: its key and its encoded value (undefined deletes the key). */
export interface StoreWrite {
  readonly key: readonly (string | number)[];
  readonly value: string | undefined;
}

/** One partition's part of a commit. */
export interface PartitionWrites {
  readonly partition: number;
  readonly writes: readonly StoreWrite[];
}

/** Where a partition's materialization stands in its log: the last entry applied. */
export interface LogPosition {
  readonly sequence: number;
  readonly batchId: string;
}

/** A partition's part of a commit that its log holds, at `position`, to apply. */
export interface LoggedWrites extends PartitionWrites {
  readonly position: LogPosition;
}

export interface CommitLog {
  /**
   * Makes a commit durable: one log entry per partition it writes; resolves once every entry is held
   * by its log and applied to the store. Rejects with a StoreWriteError when any is not (the parts
   * that did reach their logs are applied all the same: the log is the truth).
   */
  commit(parts: readonly PartitionWrites[]): Promise<void>;
  /** After a failed commit, once every commit in flight has settled: reopen what broke, catch up from the logs. */
  resync(): Promise<void>;
  /** Resolves once every commit handed over so far has settled. */
  durable(): Promise<void>;
}
