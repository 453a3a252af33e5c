import { randomUUID } from "node:crypto";
import type { NatsConnection } from "nats";
import { StoreWriteError, type CommitLog, type LmdbStore, type LoggedWrites, type PartitionWrites } from "../storage/index.js";
import { errorMessage } from "../log.js";
import { decodeEntry, encodeEntry } from "./log-entry.js";
import { isLogFencedError } from "./log-errors.js";
import { PartitionLog } from "./partition-log.js";
import { partitionInboxAddress } from "./log-names.js";
import { ensureLogStream, INBOX_DUPLICATE_WINDOW_MS } from "./log-stream.js";

export interface PartitionLogsOptions {
  readonly hub: string;
  /** This node's name: batch ids start with it. */
  readonly node: string;
  /** Replicas of a partition's log when it is created. */
  readonly replicas: number;
  /** Called after each commit's parts are applied to the store, in commit order (the outbox's courier). */
  readonly onApplied?: (parts: readonly LoggedWrites[]) => void;
}

/** Log entries applied to the store per transaction while a partition catches up. */
const CATCH_UP_CHUNK = 100;

/**
 * The CommitLog of a node's store in cluster mode: a PartitionLog per partition this node owns. A
 * commit becomes one entry per partition it writes, appended to those logs at once (several commits
 * may be in flight); once every append is acknowledged, the parts are applied to the local LMDB in
 * commit order, each with its log position. A part whose append failed (the partition was taken
 * over, or its log did not answer) fails the commit; the parts that landed are applied all the same,
 * since the logs, not the node, are the truth.
 */
export class PartitionLogs implements CommitLog {
  private readonly logs = new Map<number, PartitionLog>();
  /** Batch ids are `<node>.<boot>.<n>`: unique across nodes and restarts. */
  private readonly boot = randomUUID().slice(0, 8);
  private batches = 0;
  /** The apply of the last commit handed over: each waits for the one before it. */
  private applied: Promise<void> = Promise.resolve();

  constructor(
    private readonly connection: NatsConnection,
    private readonly store: LmdbStore,
    private readonly options: PartitionLogsOptions,
  ) {}

  /** Partitions whose log this node writes now. */
  get open(): number[] {
    return [...this.logs.keys()];
  }

  /**
   * Opens a partition's log as its writer (take its lease first: opening fences the previous owner
   * out) and applies to the store what the log holds beyond what the store has.
   */
  async openPartition(partition: number): Promise<void> {
    const log = await PartitionLog.open(this.connection, { hub: this.options.hub, partition, replicas: this.options.replicas });
    // Its inbox too, before anyone sends to it: a publish to a stream still being made waits for a time-out.
    await ensureLogStream(await this.connection.jetstreamManager(), partitionInboxAddress(this.options.hub, partition), { replicas: this.options.replicas, duplicateWindowMs: INBOX_DUPLICATE_WINDOW_MS });
    await this.catchUp(log);
    this.logs.set(partition, log);
  }

  /** Stops writing a partition (its lease is lost or given up): a commit to it is refused from now on. */
  closePartition(partition: number): void {
    this.logs.delete(partition);
  }

  commit(parts: readonly PartitionWrites[]): Promise<void> {
    const appends = parts.map(async (part): Promise<LoggedWrites> => {
      const log = this.logs.get(part.partition);
      if (log === undefined) throw new StoreWriteError(`the server could not write partition ${part.partition}: this node does not own it (now); nothing of this batch was written`, "not_owner");
      const batchId = `${this.options.node}.${this.boot}.${++this.batches}`;
      const ack = await log.append(encodeEntry(part.writes), batchId);
      return { ...part, position: { sequence: ack.sequence, batchId } };
    });
    const settled = Promise.allSettled(appends);
    const applied = this.applied.then(async () => {
      const results = await settled;
      const landed = results.flatMap((result) => (result.status === "fulfilled" ? [result.value] : []));
      await this.store.applyLogged(landed);
      this.options.onApplied?.(landed);
      const failed = results.find((result) => result.status === "rejected");
      if (failed) {
        const error = asStoreWriteError(failed.reason);
        throw new StoreWriteError(error.message, error.reason, new Set(landed.map(({ partition }) => partition)));
      }
    });
    this.applied = applied.catch(() => undefined);
    return applied;
  }

  /** Reopens every partition log whose chain broke (a fenced or unanswered append) and catches the store up. */
  async resync(): Promise<void> {
    await this.applied;
    for (const [partition, log] of this.logs) {
      if (!log.isBroken) continue;
      this.logs.delete(partition);
      await this.openPartition(partition);
    }
  }

  durable(): Promise<void> {
    return this.applied;
  }

  /**
   * Applies the log's entries after the store's position. When the entry at that position is not the
   * one the store applied (the log was made anew), the partition is rebuilt from the log's start.
   */
  private async catchUp(log: PartitionLog): Promise<void> {
    const { partition } = log;
    let from = 1;
    const position = this.store.appliedPosition(partition);
    if (position !== undefined) {
      const entry = await log.entryAt(position.sequence);
      if (entry?.batchId === position.batchId) from = position.sequence + 1;
      else await this.store.clearPartition(partition);
    } else if (this.store.hasPartitionData(partition)) {
      await this.store.clearPartition(partition); // written before this store followed a log
    }
    let chunk: LoggedWrites[] = [];
    for await (const entry of log.read(from)) {
      chunk.push({ partition, writes: decodeEntry(entry.data), position: { sequence: entry.sequence, batchId: entry.batchId } });
      if (chunk.length >= CATCH_UP_CHUNK) {
        await this.store.applyLogged(chunk);
        chunk = [];
      }
    }
    await this.store.applyLogged(chunk);
    this.store.refreshPartition(partition);
  }
}

function asStoreWriteError(error: unknown): StoreWriteError {
  if (error instanceof StoreWriteError) return error;
  if (isLogFencedError(error)) return new StoreWriteError(`the server could not write partition ${error.partition}: another node took it over; nothing of this batch was written there`, "fenced");
  return new StoreWriteError(`the server could not write to its partition log: ${errorMessage(error)}; nothing of this batch was written`, "log_unavailable");
}
