import { randomUUID } from "node:crypto";
import type { NatsConnection } from "nats";
import { StoreWriteError, type CommitLog, type LmdbStore, type LoggedWrites, type LogPosition, type PartitionWrites, type StoreWrite } from "../storage/index.js";
import { errorMessage, type Logger } from "../log.js";
import { EntryReader, encodeEntryMessages } from "./log-entry.js";
import { isLogFencedError, isLogUnavailableError, LogTrimmedError } from "./log-errors.js";
import { PartitionLog } from "./partition-log.js";
import type { PartitionSnapshots, SnapshotPointer } from "./partition-snapshots.js";
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
  /** A partition is snapshotted after this many entries (default 10,000): its log is purged behind the snapshot. */
  readonly snapshotEntries?: number;
  /** Called once a partition's snapshot is the latest and its log is purged behind it (the inbox's trimming). */
  readonly onSnapshot?: (partition: number) => Promise<void>;
  readonly log?: Logger;
}

/** Times a partition's open reads its log again when its fencing entry is refused (the previous owner is still appending) or entries it read were purged. */
const FENCE_ATTEMPTS = 20;
/** How long a broken partition log is tried again before the node gives up, and how often. */
const REOPEN_TIMEOUT_MS = 30_000;
const REOPEN_RETRY_MS = 500;
/** NATS's default max_payload, and the room left for a message's headers (message id, expectations). */
const DEFAULT_MAX_PAYLOAD = 1024 * 1024;
const MESSAGE_HEADROOM_BYTES = 8 * 1024;
/** Entries between a partition's snapshots, unless the options say. */
const DEFAULT_SNAPSHOT_ENTRIES = 10_000;
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
  /** Partitions whose log holds commits their local copy lacks (applying failed): reopened at the resync. */
  private readonly behind = new Set<number>();
  /** Partitions being opened, and whether they were closed (their lease lost) meanwhile. */
  private readonly opening = new Map<number, { closed: boolean }>();
  /** Batch ids are `<node>.<boot>.<n>`: unique across nodes and restarts. */
  private readonly boot = randomUUID().slice(0, 8);
  private batches = 0;
  /** The apply of the last commit handed over: each waits for the one before it. */
  private applied: Promise<void> = Promise.resolve();
  /** Entries applied per partition since its last snapshot (as this node counted), and the partitions being snapshotted. */
  private readonly sinceSnapshot = new Map<number, number>();
  private readonly snapshotting = new Set<number>();

  constructor(
    private readonly connection: NatsConnection,
    private readonly store: LmdbStore,
    private readonly snapshots: PartitionSnapshots,
    private readonly options: PartitionLogsOptions,
  ) {}

  private get snapshotEntries(): number {
    return this.options.snapshotEntries ?? DEFAULT_SNAPSHOT_ENTRIES;
  }

  /** The largest log message: the NATS servers' max_payload, less room for headers. */
  private get maxMessageBytes(): number {
    return (this.connection.info?.max_payload ?? DEFAULT_MAX_PAYLOAD) - MESSAGE_HEADROOM_BYTES;
  }

  /** Partitions whose log this node writes now. */
  get open(): number[] {
    return [...this.logs.keys()];
  }

  /**
   * Opens a partition's log as its writer (take its lease first: opening fences the previous owner
   * out) and applies to the store what the log holds beyond what the store has.
   */
  async openPartition(partition: number): Promise<void> {
    const opening = { closed: false };
    this.opening.set(partition, opening);
    try {
      // Its inbox too, before anyone sends to it: a publish to a stream still being made waits for a time-out.
      await ensureLogStream(await this.connection.jetstreamManager(), partitionInboxAddress(this.options.hub, partition), { replicas: this.options.replicas, duplicateWindowMs: INBOX_DUPLICATE_WINDOW_MS });
      // This node's own applies still in flight (entries of an earlier ownership of this partition)
      // land before the catch-up reads where the copy stands.
      await this.applied;
      for (let attempt = 1; ; attempt++) {
        const log = await PartitionLog.open(this.connection, { hub: this.options.hub, partition, replicas: this.options.replicas });
        try {
          await this.catchUp(log);
        } catch (error) {
          // Entries were purged behind a newer snapshot while this read them: start again from it.
          if (error instanceof LogTrimmedError && attempt < FENCE_ATTEMPTS) continue;
          throw error;
        }
        if (opening.closed) throw new PartitionClosedError(partition);
        // Fence at once, with an empty entry after the last one read: from now on the previous owner's
        // appends are refused (not only from this node's first commit on), so nothing it appends later
        // can be missing from this node's copy while it answers reads. Refused: the previous owner
        // appended meanwhile; read again.
        try {
          await this.fence(log);
        } catch (error) {
          if (isLogFencedError(error) && attempt < FENCE_ATTEMPTS) continue;
          throw error;
        }
        this.logs.set(partition, log);
        return;
      }
    } finally {
      if (this.opening.get(partition) === opening) this.opening.delete(partition);
    }
  }

  /** Stops writing a partition (its lease is lost or given up): a commit to it is refused from now on, and an open under way is given up. */
  closePartition(partition: number): void {
    this.logs.delete(partition);
    const opening = this.opening.get(partition);
    if (opening) opening.closed = true;
  }

  commit(parts: readonly PartitionWrites[]): Promise<void> {
    const appends = parts.map(async (part): Promise<LoggedWrites> => {
      const log = this.logs.get(part.partition);
      if (log === undefined) throw new StoreWriteError(`the server could not write partition ${part.partition}: this node does not own it (now); nothing of this batch was written`, "not_owner");
      const batchId = `${this.options.node}.${this.boot}.${++this.batches}`;
      const messages = encodeEntryMessages(part.writes, this.maxMessageBytes);
      // Chunks of a large entry go in order, each after the one before; the entry is where its last one is.
      const appends = messages.map((data, index) => log.append(data, index === messages.length - 1 ? batchId : `${batchId}.${index}`));
      const acks = await Promise.all(appends);
      return { ...part, position: { sequence: acks.at(-1)!.sequence, batchId } };
    });
    const settled = Promise.allSettled(appends);
    const applied = this.applied.then(async () => {
      const results = await settled;
      const landed = results.flatMap((result) => (result.status === "fulfilled" ? [result.value] : []));
      try {
        await this.store.applyLogged(landed);
      } catch (error) {
        // Durable in the logs, but not in the local copy (a full disk): those partitions catch up from their logs at the resync.
        for (const { partition } of landed) this.behind.add(partition);
        throw new StoreWriteError(`the server could not apply a commit to its local copy: ${errorMessage(error)}`, "apply_failed", new Set(landed.map(({ partition }) => partition)));
      }
      this.countApplied(landed);
      this.options.onApplied?.(landed);
      const failed = results.find((result) => result.status === "rejected");
      if (failed) {
        const error = asStoreWriteError(failed.reason);
        const unknown = results.some((result) => result.status === "rejected" && isLogUnavailableError(result.reason));
        throw new StoreWriteError(error.message, error.reason, new Set(landed.map(({ partition }) => partition)), unknown);
      }
    });
    this.applied = applied.catch(() => undefined);
    return applied;
  }

  /**
   * Reopens every partition log whose chain broke (a fenced or unanswered append) and catches the store
   * up, trying for a while when NATS does not answer; a node that still cannot reach its logs then
   * fails (the error ends the process), and its leases lapse to the other nodes.
   */
  async resync(): Promise<void> {
    await this.applied;
    for (const [partition, log] of this.logs) {
      if (!log.isBroken && !this.behind.has(partition)) continue;
      this.logs.delete(partition);
      this.behind.delete(partition);
      const deadline = Date.now() + REOPEN_TIMEOUT_MS;
      for (;;) {
        try {
          await this.openPartition(partition);
          break;
        } catch (error) {
          if (error instanceof PartitionClosedError) break; // its lease was lost meanwhile: not this node's to open
          if (Date.now() >= deadline) throw error;
          await new Promise((resolve) => setTimeout(resolve, REOPEN_RETRY_MS));
        }
      }
    }
  }

  durable(): Promise<void> {
    return this.applied;
  }

  /** Appends an empty entry (the partition's new owner's first) and records its position. */
  private async fence(log: PartitionLog): Promise<void> {
    const batchId = `${this.options.node}.${this.boot}.${++this.batches}`;
    const ack = await log.append(encodeEntryMessages([], this.maxMessageBytes)[0]!, batchId);
    await this.store.applyLogged([{ partition: log.partition, writes: [], position: { sequence: ack.sequence, batchId } }]);
  }

  /** Appends what the store holds of a partition as the first entry of its empty log, and records the position. */
  private async bringIn(log: PartitionLog): Promise<void> {
    const { partition } = log;
    const writes = this.store.readPartition(partition);
    const batchId = `${this.options.node}.${this.boot}.import.${partition}`;
    const messages = encodeEntryMessages(writes, this.maxMessageBytes);
    const acks = await Promise.all(messages.map((data, index) => log.append(data, index === messages.length - 1 ? batchId : `${batchId}.${index}`)));
    await this.store.applyLogged([{ partition, writes: [], position: { sequence: acks.at(-1)!.sequence, batchId } }]);
    this.store.refreshPartition(partition);
  }

  /**
   * Applies the log's entries after the store's position. When the log no longer holds the entry at
   * that position (it was trimmed behind a snapshot, or made anew), the partition is rebuilt: from
   * its latest snapshot that belongs to this log, then the entries after it; without one, from the
   * log's start.
   */
  private async catchUp(log: PartitionLog): Promise<void> {
    const { partition } = log;
    const position = this.store.appliedPosition(partition);
    let from: number;
    if (position !== undefined && (await log.entryAt(position.sequence))?.batchId === position.batchId) {
      from = position.sequence + 1;
    } else if (position === undefined && this.store.hasPartitionData(partition) && (await log.lastEntry()) === undefined) {
      // Written before this store followed a log: a data directory of a single server joining a cluster
      // brings its state in, as the first entry of a partition's empty log; a log that has entries wins.
      return this.bringIn(log);
    } else {
      from = await this.restore(log);
    }
    let chunk: LoggedWrites[] = [];
    const entries = new EntryReader();
    for await (const entry of log.read(from)) {
      const writes = entries.next(entry.data);
      if (writes === undefined) continue; // a chunk of a larger entry
      chunk.push({ partition, writes, position: { sequence: entry.sequence, batchId: entry.batchId } });
      if (chunk.length >= CATCH_UP_CHUNK) {
        await this.store.applyLogged(chunk);
        chunk = [];
      }
    }
    await this.store.applyLogged(chunk);
    this.store.refreshPartition(partition);
  }

  /** Clears a partition's copy and puts its latest snapshot in (if it has one of this log); returns the log sequence to replay from. */
  private async restore(log: PartitionLog): Promise<number> {
    const { partition } = log;
    await this.store.clearPartition(partition);
    const ofThisLog = async (candidate: SnapshotPointer) => (await log.entryAt(candidate.sequence))?.batchId === candidate.batchId;
    let pointer = await this.snapshots.latest(partition);
    if (pointer === undefined || !(await ofThisLog(pointer))) {
      pointer = undefined;
      for (const candidate of await this.snapshots.stored(partition)) {
        if (await ofThisLog(candidate)) {
          pointer = candidate;
          break;
        }
      }
      if (pointer === undefined) return 1;
    }
    const writes = await this.snapshots.load(pointer);
    if (writes === undefined) throw new LogTrimmedError(partition, pointer.sequence); // replaced meanwhile by a newer one
    await this.store.applyLogged([{ partition, writes, position: { sequence: pointer.sequence, batchId: pointer.batchId } }]);
    return pointer.sequence + 1;
  }

  /**
   * Counts a partition's applied entries, and snapshots it every `snapshotEntries` of them. Called in
   * the apply chain, right after an apply: the copy is read there, so it is exactly the state at its
   * position; storing it, moving the pointer, and purging the log and inbox behind it go on meanwhile.
   */
  private countApplied(parts: readonly LoggedWrites[]): void {
    for (const { partition } of parts) {
      const count = (this.sinceSnapshot.get(partition) ?? 0) + 1;
      this.sinceSnapshot.set(partition, count);
      if (count < this.snapshotEntries || this.snapshotting.has(partition)) continue;
      const log = this.logs.get(partition);
      const position = this.store.appliedPosition(partition);
      if (log === undefined || position === undefined) continue;
      this.sinceSnapshot.set(partition, 0);
      this.snapshotting.add(partition);
      const saving = this.saveSnapshot(log, position, this.store.readPartition(partition));
      void saving
        .catch((error: unknown) => this.options.log?.warn("could not store a partition snapshot (the log keeps everything; tried again later)", { partition, error: errorMessage(error) }))
        .finally(() => this.snapshotting.delete(partition));
    }
  }

  private async saveSnapshot(log: PartitionLog, position: LogPosition, writes: readonly StoreWrite[]): Promise<void> {
    const { partition } = log;
    const saved = await this.snapshots.save(partition, position, writes, async (pointer) => (await log.entryAt(pointer.sequence))?.batchId === pointer.batchId);
    if (saved === undefined) return; // a snapshot as recent or more is the latest already
    await log.purgeBefore(position.sequence);
    await this.options.onSnapshot?.(partition);
    if (saved.replaced !== undefined) await this.snapshots.remove(saved.replaced.object);
    await this.snapshots.removeOlder(partition, { ...position, object: `p.${partition}.${position.sequence}` });
  }
}

/** The partition's lease was lost while it was being opened: the open is given up. */
class PartitionClosedError extends Error {
  constructor(partition: number) {
    super(`partition ${partition} was lost while it was being opened`);
    this.name = "PartitionClosedError";
  }
}

function asStoreWriteError(error: unknown): StoreWriteError {
  if (error instanceof StoreWriteError) return error;
  if (isLogFencedError(error)) return new StoreWriteError(`the server could not write partition ${error.partition}: another node took it over; nothing of this batch was written there`, "fenced");
  return new StoreWriteError(`the server could not write to its partition log: ${errorMessage(error)}`, "log_unavailable", undefined, true);
}
