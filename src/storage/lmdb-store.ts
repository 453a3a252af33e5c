import { createHash } from "node:crypto";
import { mkdirSync } from "node:fs";
import { open, type Database, type RootDatabase } from "lmdb";
import type { CommitLog, LoggedWrites, LogPosition, PartitionWrites, StoreWrite } from "./commit-log.js";
import { StoreWriteError, type EntityRecord, type EntityStore, type MailboxAddress, type MailboxMessage, type Page, type PageCursor, type SignalFailure, type SignalMark, type WriteBatch } from "./entity-store.js";
import { writeOrDrop } from "../log.js";
import { DataDirLock } from "./data-dir-lock.js";
import { countEntities, listEntities, type EntityListing, type EntityListingQuery } from "./entity-listing.js";
import { entityTypeOf, type DeadLetter, type DeadLetterAddress, type DeadLetterQuery } from "./dead-letters.js";
import { deadLetterKey, encodeDeadLetter, LmdbDeadLetters, type DeadLetterKey } from "./lmdb-dead-letters.js";
import type { TimerAddress, WorkItemAddress } from "./instance-records.js";
import { historyKey, instanceKey, LmdbInstanceTables, timerKey, workItemKey, type InstanceKey } from "./lmdb-instance-tables.js";
import { partitionOf } from "./partition-hash.js";

export interface LmdbStoreOptions {
  /** Directory of the LMDB environment; created when missing. */
  readonly path: string;
  /** Partitions of a new store (default 16). An existing store keeps the count it was made with. */
  readonly partitionCount?: number;
  /**
   * Cluster mode: a message to another partition than its sender's is written to the sender's
   * partition's outbox (`readOutbox`), not to the target's mailbox, so that each partition's writes
   * stay its own (each partition has its own log); the cluster carries it to the target's owner.
   */
  readonly outbox?: boolean;
}

const DEFAULT_PARTITIONS = 16;
const MAX_PARTITIONS = 4096;
const FORMAT = 1;
type Key =
  | [partition: number, kind: "e", id: string]
  | [partition: number, kind: "m", seq: number]
  | [partition: number, kind: "s", id: string, clientKey: string]
  | [partition: number, kind: "f", id: string, clientKey: string, seq: number]
  | [partition: number, kind: "o", seq: number]
  | [partition: number, kind: "c", name: string]
  | DeadLetterKey
  | InstanceKey;
type Write = StoreWrite & { key: Key };
/** A signal mark as stored: the mark, and the client id its key hashes. */
type StoredMark = [seq: number, atMs: number, clientId: string];
/** A signal failure as stored: the failure, and the client id its key hashes. */
type StoredFailure = [code: string, message: string, atMs: number, clientId: string];

/**
 * The LMDB implementation. Keys are `[partition, "e", entityId]` for entity records,
 * `[partition, "m", seq]` for mailbox messages, `[partition, "s", entityId, clientKey]` for signal
 * marks and `[partition, "f", entityId, clientKey, seq]` for failed signals, where clientKey is a
 * fixed-length hash of the client id (an entity id and a client id together could pass LMDB's key
 * size limit; the client id itself is kept in the value). Dead letters are `[partition, "d",
 * entityType, seq]` (lmdb-dead-letters.ts). Values are JSON strings, encoded when a write is added to
 * a batch. A batch commits as one LMDB transaction; `commit` waits for `flushed`.
 *
 * In cluster mode (`useLog`), `[partition, "o", seq]` holds the partition's outbox (messages to other
 * partitions) and `[partition, "c", name]` the cluster's values of a partition (outbox counter,
 * inbox positions); commits go to the CommitLog, which applies them here once the logs hold them.
 */
export class LmdbStore implements EntityStore {
  readonly partitionCount: number;
  /** The partitions this process owns (all, unless a cluster assigns a subset: `setLocalPartitions`). */
  private readonly owned: number[];
  private readonly nextSeq: number[];
  /** Cluster mode: the next outbox number of each partition (kept in `[p, "c", "outbox"]`, never reused). */
  private readonly nextOutboxSeq: number[];
  /** The owned partitions as a set, once a cluster assigned them (undefined: all). */
  private ownedSet: Set<number> | undefined;
  private localityCheck: (() => void) | undefined;
  private localityCheckedAt = -Infinity;
  /** Cluster mode: where commits become durable. */
  private log: CommitLog | undefined;
  /** Hashed client ids for mark keys, remembered for the few clients that are active at a time. */
  private readonly clientKeys = new Map<string, string>();
  private readonly instances: LmdbInstanceTables;
  private readonly deadLetters: LmdbDeadLetters;
  /** The number of the last commit handed to LMDB (see `commit`: each names the one it follows). */
  private lastCommit: number;
  /** Resolves once the last successful commit is on disk (and with it every earlier one). */
  private lastFlush: Promise<void> = Promise.resolve();
  /** True when the last commit that reached LMDB failed. */
  private failedLast = false;

  private constructor(
    private readonly root: RootDatabase,
    private readonly meta: Database<string, string>,
    private readonly db: Database<string, Key>,
    partitionCount: number,
    private readonly lock: DataDirLock,
    /** Cluster mode: messages to other partitions go to their sender's partition's outbox. */
    readonly outbox: boolean,
  ) {
    this.lastCommit = this.committedNumber();
    this.partitionCount = partitionCount;
    this.owned = Array.from({ length: partitionCount }, (_, i) => i);
    this.nextSeq = this.owned.map((p) => this.lastMailboxSeq(p) + 1);
    this.nextOutboxSeq = this.owned.map((p) => this.lastOutboxSeq(p) + 1);
    this.instances = new LmdbInstanceTables(db as never, (id) => this.partitionOf(id));
    this.deadLetters = new LmdbDeadLetters(db as never, this.owned);
  }

  get localPartitions(): readonly number[] {
    return this.owned;
  }

  isLocal(id: string): boolean {
    if (this.ownedSet === undefined) return true;
    this.checkLocality();
    return this.ownedSet.has(this.partitionOf(id));
  }

  /**
   * Cluster mode: `check` brings the local partitions up to date (drops those whose lease ran out),
   * called before answering whether an id is local, at most every LOCALITY_CHECK_MS. A node resumed
   * after a pause reads the requests that waited in its sockets before any timer of its own runs:
   * they must find the partitions it lost already gone, and be forwarded.
   */
  checkLocalityWith(check: () => void): void {
    this.localityCheck = check;
  }

  private checkLocality(): void {
    if (this.localityCheck === undefined) return;
    const now = performance.now();
    if (now - this.localityCheckedAt < LOCALITY_CHECK_MS) return;
    this.localityCheckedAt = now;
    this.localityCheck();
  }

  static async open(options: LmdbStoreOptions): Promise<LmdbStore> {
    mkdirSync(options.path, { recursive: true });
    const lock = await DataDirLock.acquire(options.path);
    try {
      return await LmdbStore.openLocked(options, lock);
    } catch (error) {
      await lock.release();
      throw error;
    }
  }

  private static async openLocked(options: LmdbStoreOptions, lock: DataDirLock): Promise<LmdbStore> {
    // noSubdir: false, or lmdb takes a directory with a dot in its name ("store.db", "data.v2") for a file.
    const root = open({ path: options.path, encoding: "string", noSubdir: false, eventTurnBatching: false });
    try {
      const meta = root.openDB<string, string>({ name: "meta", encoding: "string" });
      const db = root.openDB<string, Key>({ name: "partitions", encoding: "string" });
      const stored = meta.get("layout");
      let partitionCount: number;
      if (stored === undefined) {
        partitionCount = options.partitionCount ?? DEFAULT_PARTITIONS;
        if (!Number.isInteger(partitionCount) || partitionCount < 1 || partitionCount > MAX_PARTITIONS) {
          throw new RangeError(`partition count must be a whole number from 1 to ${MAX_PARTITIONS}, got ${partitionCount}`);
        }
        await meta.put("layout", JSON.stringify({ format: FORMAT, partitions: partitionCount }));
        await root.flushed;
      } else {
        const layout = JSON.parse(stored) as { format: number; partitions: number };
        if (layout.format !== FORMAT) throw new Error(`data directory ${options.path} has storage format ${layout.format}; this build reads ${FORMAT}`);
        partitionCount = layout.partitions;
      }
      return new LmdbStore(root, meta, db, partitionCount, lock, options.outbox === true);
    } catch (error) {
      await root.close();
      throw error;
    }
  }

  partitionOf(id: string): number {
    return partitionOf(id, this.partitionCount);
  }

  readEntity(id: string): EntityRecord | undefined {
    const value = this.db.get([this.partitionOf(id), "e", id]);
    return value === undefined ? undefined : (JSON.parse(value) as EntityRecord);
  }

  readSignalMark(entityId: string, clientId: string): SignalMark | undefined {
    const value = this.db.get(this.markKey(entityId, clientId));
    if (value === undefined) return undefined;
    const [seq, atMs] = JSON.parse(value) as StoredMark;
    return [seq, atMs];
  }

  readSignalMarks(partition: number, limit: number, after?: PageCursor): Page<[string, string, SignalMark]> {
    return this.readPage(partition, "s", limit, after, (key, value) => {
      const [seq, atMs, clientId] = JSON.parse(value) as StoredMark;
      return [key[2] as string, clientId, [seq, atMs]];
    });
  }

  readSignalFailure(entityId: string, clientId: string, seq: number): SignalFailure | undefined {
    const value = this.db.get(this.failureKey(entityId, clientId, seq));
    if (value === undefined) return undefined;
    const [code, message, atMs] = JSON.parse(value) as StoredFailure;
    return [code, message, atMs];
  }

  readSignalFailures(partition: number, limit: number, after?: PageCursor): Page<[string, string, number, SignalFailure]> {
    return this.readPage(partition, "f", limit, after, (key, value) => {
      const [code, message, atMs, clientId] = JSON.parse(value) as StoredFailure;
      return [key[2] as string, clientId, key[4] as number, [code, message, atMs]];
    });
  }

  /** Up to `limit` entries of one kind in a partition, after the key a previous page ended at. */
  private readPage<T>(partition: number, kind: "s" | "f", limit: number, after: PageCursor | undefined, read: (key: Key, value: string) => T): Page<T> {
    const entries: T[] = [];
    let last: Key | undefined;
    const start = after === undefined ? [partition, kind] : (after as unknown as Key);
    const end = [partition, String.fromCharCode(kind.charCodeAt(0) + 1)];
    for (const { key, value } of this.db.getRange({ start, exclusiveStart: after !== undefined, end, limit })) {
      entries.push(read(key as Key, value));
      last = key as Key;
    }
    return { entries, next: entries.length < limit ? undefined : (last as unknown as PageCursor) };
  }

  /** @internal used by batches */
  markKey(entityId: string, clientId: string): Key {
    let clientKey = this.clientKeys.get(clientId);
    if (clientKey === undefined) {
      if (this.clientKeys.size >= 10_000) this.clientKeys.clear();
      clientKey = createHash("sha256").update(clientId).digest("base64url").slice(0, 22);
      this.clientKeys.set(clientId, clientKey);
    }
    return [this.partitionOf(entityId), "s", entityId, clientKey];
  }

  /** @internal used by batches */
  failureKey(entityId: string, clientId: string, seq: number): Key {
    const [partition, , id, clientKey] = this.markKey(entityId, clientId) as [number, "s", string, string];
    return [partition, "f", id, clientKey, seq];
  }

  readInstance(instanceId: string): unknown {
    return this.instances.readInstance(instanceId);
  }

  readHistory(instanceId: string, fromSeq?: number, limit?: number): unknown[] {
    return this.instances.readHistory(instanceId, fromSeq, limit);
  }

  readInstances(partition: number, limit: number, after?: PageCursor): Page<[string, unknown]> {
    return this.instances.readInstances(partition, limit, after);
  }

  readDueTimers(partition: number, untilMs: number, limit: number): Array<[TimerAddress, unknown]> {
    return this.instances.readDueTimers(partition, untilMs, limit);
  }

  nextTimerDue(partition: number): number | undefined {
    return this.instances.nextTimerDue(partition);
  }

  countTimers(partition: number): number {
    return this.instances.countTimers(partition);
  }

  readWorkItems(partition: number): Iterable<[WorkItemAddress, unknown]> {
    return this.instances.readWorkItems(partition);
  }

  readDeadLetterAddresses(entityType: string): DeadLetterAddress[] {
    return this.deadLetters.readDeadLetterAddresses(entityType);
  }

  lastDeadLetterSeq(): number {
    return this.deadLetters.lastDeadLetterSeq();
  }

  readDeadLetters(query: DeadLetterQuery): DeadLetter[] {
    return this.deadLetters.readDeadLetters(query);
  }

  listEntities(query: EntityListingQuery): EntityListing {
    return listEntities(this.db as never, this.localPartitions, query);
  }

  countEntities(query: Omit<EntityListingQuery, "pageSize" | "after">): Promise<number> {
    return countEntities(this.db as never, this.localPartitions, query);
  }

  *readMailbox(partition: number): Iterable<[MailboxAddress, MailboxMessage]> {
    for (const { key, value } of this.db.getRange({ start: [partition, "m", 0], end: [partition, "n"] })) {
      yield [{ partition, seq: key[2] as number }, JSON.parse(value) as MailboxMessage];
    }
  }

  newBatch(): WriteBatch {
    return new LmdbWriteBatch(this);
  }

  /** @internal used by batches */
  allocateSeq(partition: number): number {
    const seq = this.nextSeq[partition]!;
    this.nextSeq[partition] = seq + 1;
    return seq;
  }

  /** @internal used by batches */
  allocateOutboxSeq(partition: number): number {
    const seq = this.nextOutboxSeq[partition]!;
    this.nextOutboxSeq[partition] = seq + 1;
    return seq;
  }

  /**
   * Commits a batch as one child transaction (if a write throws, none of the batch is kept), then waits
   * for `flushed`. Commits are chained by number: each checks, inside its transaction, that the last
   * commit on disk is the one it follows, and records its own number. LMDB runs queued transactions in
   * order, so when one fails (a full disk, a map that cannot grow), every commit queued after it, built
   * on memory that held the failed one's writes, finds the wrong number and writes nothing either,
   * whether or not LMDB put it in the same transaction.
   */
  async commit(batch: WriteBatch, onCommitted?: () => void): Promise<void> {
    const writes = (batch as LmdbWriteBatch).writes;
    if (writes.length === 0) {
      onCommitted?.();
      return this.durable();
    }
    if (this.log) {
      await this.log.commit(byPartition(writes));
      onCommitted?.();
      return;
    }
    const follows = this.lastCommit;
    const number = ++this.lastCommit;
    try {
      const committed = this.db.childTransaction(() => {
        if (this.committedNumber() !== follows) throw new StoreWriteError("the server could not write to its store: an earlier commit this one follows failed; nothing of this batch was written");
        for (const { key, value } of writes) {
          if (value === undefined) this.db.removeSync(key);
          else this.db.putSync(key, value);
        }
        this.meta.putSync(COMMIT_NUMBER, String(number));
      });
      // The flush of this commit's transaction, taken now: lmdb's `flushed` names the newest queued
      // transaction, and one that fails is never flushed, so asked later it could wait forever.
      const flushed = flushOfQueued(this.root);
      await committed;
      this.failedLast = false;
      this.lastFlush = flushed;
      onCommitted?.();
      await flushed;
    } catch (error) {
      if (error instanceof StoreWriteError) throw error;
      this.failedLast = true;
      throw await storeWriteError(error);
    }
  }

  async resync(): Promise<void> {
    this.lastCommit = this.committedNumber();
    await this.log?.resync();
  }

  private committedNumber(): number {
    return Number(this.meta.get(COMMIT_NUMBER) ?? 0);
  }

  async durable(): Promise<void> {
    await this.lastFlush;
    await this.log?.durable();
  }

  async close(): Promise<void> {
    await this.lastFlush;
    const closed = this.root.close();
    // lmdb-js closes only once the last transaction is flushed, and one whose commit failed never is:
    // after a failed commit (and none since) it would wait forever, so the server could not stop while
    // its disk is full. Everything acknowledged is flushed already (lastFlush); the environment is left
    // to the process's end.
    if (this.failedLast) closed.catch(() => {});
    else await closed;
    await this.lock.release();
  }

  // ── Cluster mode: the store as the materialization of the partitions' logs ──

  /** From now on, commits are made durable by `log`, which applies them here (`applyLogged`). */
  useLog(log: CommitLog): void {
    this.log = log;
  }

  /** The partitions this node owns now (a cluster's leases decide). */
  setLocalPartitions(partitions: Iterable<number>): void {
    this.ownedSet = new Set(partitions);
    this.owned.splice(0, this.owned.length, ...[...this.ownedSet].sort((a, b) => a - b));
  }

  /** The last log entry applied to a partition, undefined when none was. */
  appliedPosition(partition: number): LogPosition | undefined {
    const value = this.meta.get(appliedKey(partition));
    return value === undefined ? undefined : (JSON.parse(value) as LogPosition);
  }

  /**
   * Applies log entries, in the order given, in one transaction, each with its partition's new
   * position. Resolves once committed: not flushed, since the log is what is durable; a crash loses at
   * most a tail of applied entries, and a partition's position goes back with them (same transaction).
   * An entry at or before its partition's position is skipped: the copy has it already (a late apply
   * after the partition caught up from its log must not roll the copy back).
   */
  async applyLogged(parts: readonly LoggedWrites[]): Promise<void> {
    if (parts.length === 0) return;
    await this.db.transaction(() => {
      const positions = new Map<number, number>();
      for (const part of parts) {
        const at = positions.get(part.partition) ?? this.appliedPosition(part.partition)?.sequence ?? 0;
        if (part.position.sequence <= at) continue;
        positions.set(part.partition, part.position.sequence);
        for (const { key, value } of part.writes as Write[]) {
          if (value === undefined) this.db.removeSync(key);
          else this.db.putSync(key, value);
        }
        this.meta.putSync(appliedKey(part.partition), JSON.stringify(part.position));
      }
    });
  }

  /** Removes everything of a partition (its log is replayed into it from the start). */
  async clearPartition(partition: number): Promise<void> {
    await this.db.transaction(() => {
      for (const key of this.db.getKeys({ start: [partition], end: [partition + 1] })) this.db.removeSync(key);
      this.meta.removeSync(appliedKey(partition));
    });
  }

  /** Everything stored of a partition, as writes that would make it again. */
  readPartition(partition: number): StoreWrite[] {
    const writes: Write[] = [];
    for (const { key, value } of this.db.getRange({ start: [partition], end: [partition + 1] })) writes.push({ key: key as Key, value });
    return writes;
  }

  /** True when anything of the partition is stored. */
  hasPartitionData(partition: number): boolean {
    for (const _ of this.db.getKeys({ start: [partition], end: [partition + 1], limit: 1 })) return true;
    return false;
  }

  /** After entries were applied to a partition from its log: its counters follow what is stored now. */
  refreshPartition(partition: number): void {
    this.nextSeq[partition] = this.lastMailboxSeq(partition) + 1;
    this.nextOutboxSeq[partition] = this.lastOutboxSeq(partition) + 1;
  }

  /** The messages in a partition's outbox, in the order they were written. */
  readOutbox(partition: number): Array<[seq: number, message: MailboxMessage]> {
    const messages: Array<[number, MailboxMessage]> = [];
    for (const { key, value } of this.db.getRange({ start: [partition, "o", 0], end: [partition, "p"] })) {
      messages.push([key[2] as number, JSON.parse(value) as MailboxMessage]);
    }
    return messages;
  }

  /** A cluster value of a partition (see WriteBatch.putPartitionValue). */
  readPartitionValue(partition: number, name: string): unknown {
    const value = this.db.get([partition, "c", name]);
    return value === undefined ? undefined : JSON.parse(value);
  }

  private lastOutboxSeq(partition: number): number {
    const counter = this.db.get([partition, "c", OUTBOX_COUNTER]);
    return counter === undefined ? 0 : Number(counter);
  }

  private lastMailboxSeq(partition: number): number {
    for (const key of this.db.getKeys({ start: [partition, "n"], end: [partition, "m", 0], reverse: true, limit: 1 })) {
      return key[2] as number;
    }
    return 0;
  }
}

class LmdbWriteBatch implements WriteBatch {
  readonly writes: Write[] = [];

  constructor(private readonly store: LmdbStore) {}

  get size(): number {
    return this.writes.length;
  }

  putEntity(id: string, record: EntityRecord): void {
    this.writes.push({ key: [this.store.partitionOf(id), "e", id], value: JSON.stringify(record) });
  }

  deleteEntity(id: string): void {
    this.writes.push({ key: [this.store.partitionOf(id), "e", id], value: undefined });
  }

  appendMessage(message: MailboxMessage, from?: string): MailboxAddress {
    const partition = this.store.partitionOf(message.target);
    const source = from === undefined ? partition : this.store.partitionOf(from);
    if (this.store.outbox && source !== partition) {
      const seq = this.store.allocateOutboxSeq(source);
      this.writes.push({ key: [source, "o", seq], value: JSON.stringify(message) });
      this.writes.push({ key: [source, "c", OUTBOX_COUNTER], value: String(seq) });
      return { partition: source, seq, outbox: true };
    }
    const seq = this.store.allocateSeq(partition);
    this.writes.push({ key: [partition, "m", seq], value: JSON.stringify(message) });
    return { partition, seq };
  }

  deleteMessage(address: MailboxAddress): void {
    this.writes.push({ key: address.outbox ? [address.partition, "o", address.seq] : [address.partition, "m", address.seq], value: undefined });
  }

  putPartitionValue(partition: number, name: string, value: unknown): void {
    this.writes.push({ key: [partition, "c", name], value: JSON.stringify(value) });
  }

  putSignalMark(entityId: string, clientId: string, mark: SignalMark): void {
    const stored: StoredMark = [mark[0], mark[1], clientId];
    this.writes.push({ key: this.store.markKey(entityId, clientId), value: JSON.stringify(stored) });
  }

  deleteSignalMark(entityId: string, clientId: string): void {
    this.writes.push({ key: this.store.markKey(entityId, clientId), value: undefined });
  }

  putSignalFailure(entityId: string, clientId: string, seq: number, failure: SignalFailure): void {
    const stored: StoredFailure = [failure[0], failure[1], failure[2], clientId];
    this.writes.push({ key: this.store.failureKey(entityId, clientId, seq), value: JSON.stringify(stored) });
  }

  deleteSignalFailure(entityId: string, clientId: string, seq: number): void {
    this.writes.push({ key: this.store.failureKey(entityId, clientId, seq), value: undefined });
  }

  putDeadLetter(letter: DeadLetter): DeadLetterAddress {
    const address: DeadLetterAddress = { partition: this.store.partitionOf(letter.target), entityType: entityTypeOf(letter.target), seq: letter.seq };
    this.writes.push({ key: deadLetterKey(address), value: encodeDeadLetter(letter) });
    return address;
  }

  deleteDeadLetter(address: DeadLetterAddress): void {
    this.writes.push({ key: deadLetterKey(address), value: undefined });
  }

  putInstance(instanceId: string, record: unknown): void {
    this.writes.push({ key: instanceKey(this.store.partitionOf(instanceId), instanceId), value: JSON.stringify(record) });
  }

  deleteInstance(instanceId: string): void {
    this.writes.push({ key: instanceKey(this.store.partitionOf(instanceId), instanceId), value: undefined });
  }

  putHistoryEvent(instanceId: string, seq: number, event: unknown): void {
    this.writes.push({ key: historyKey(this.store.partitionOf(instanceId), instanceId, seq), value: JSON.stringify(event) });
  }

  deleteHistoryEvent(instanceId: string, seq: number): void {
    this.writes.push({ key: historyKey(this.store.partitionOf(instanceId), instanceId, seq), value: undefined });
  }

  putTimer(timer: TimerAddress, value: unknown): void {
    this.writes.push({ key: timerKey(this.store.partitionOf(timer.instanceId), timer), value: JSON.stringify(value) });
  }

  deleteTimer(timer: TimerAddress): void {
    this.writes.push({ key: timerKey(this.store.partitionOf(timer.instanceId), timer), value: undefined });
  }

  putWorkItem(item: WorkItemAddress, value: unknown): void {
    this.writes.push({ key: workItemKey(this.store.partitionOf(item.instanceId), item), value: JSON.stringify(value) });
  }

  deleteWorkItem(item: WorkItemAddress): void {
    this.writes.push({ key: workItemKey(this.store.partitionOf(item.instanceId), item), value: undefined });
  }
}

/**
 * lmdb-js prints each failed commit's error with `console.error` (a multi-line stack in the middle of the
 * server's JSON log lines); the store reports the failure itself, as a StoreWriteError the pipeline logs.
 * So that print, and only it (an Error raised in lmdb's write.js), is dropped.
 */
function dropLmdbCommitErrorPrints(): void {
  const print = console.error;
  console.error = (...args: unknown[]) => {
    const [first] = args;
    if (args.length === 1 && first instanceof Error && /lmdb[\\/]write\.js/.test(first.stack?.split("\n")[1] ?? "")) return;
    print.apply(console, args);
  };
}
dropLmdbCommitErrorPrints();

/** A promise for the flush of the transaction queued last (lmdb's `flushed` is a thenable read when `then` is called). */
function flushOfQueued(root: RootDatabase): Promise<void> {
  return new Promise((resolve, reject) => void root.flushed.then(() => resolve(), reject));
}

/** The meta key holding the number of the last commit on disk. */
const COMMIT_NUMBER = "commit";
/** The cluster value holding a partition's last outbox number. */
const OUTBOX_COUNTER = "outbox";
const appliedKey = (partition: number): string => `applied.${partition}`;
/** How often, at most, `isLocal` has a cluster's leases checked. */
const LOCALITY_CHECK_MS = 20;

/** A commit's writes, grouped by the partition each key is in (its first part). */
function byPartition(writes: readonly Write[]): PartitionWrites[] {
  const parts = new Map<number, Write[]>();
  for (const write of writes) {
    const partition = write.key[0];
    let part = parts.get(partition);
    if (part === undefined) parts.set(partition, (part = []));
    part.push(write);
  }
  return [...parts].map(([partition, writes]) => ({ partition, writes }));
}

/** LMDB's errors for a write that did not fit, by the code its commit error carries. */
const NO_SPACE: Record<string, string> = { "28": "the disk is full (ENOSPC)", "-30792": "the store's map is full (MDB_MAP_FULL)", "5": "the disk refused the write (EIO; a full file system can report this)" };

/**
 * A clear error for a failed LMDB commit. lmdb-js rejects with "Commit failed (see commitError for
 * details)" and keeps the cause in a `commitError` promise, which is read here (and so never left
 * unhandled).
 */
async function storeWriteError(error: unknown): Promise<StoreWriteError> {
  let cause: unknown = error;
  const pending = (error as { commitError?: Promise<unknown> } | null)?.commitError;
  if (pending && typeof pending.then === "function") cause = await pending.then(() => error, (inner: unknown) => inner);
  const code = (cause as { code?: unknown } | null)?.code;
  const reason = code === undefined ? undefined : String(code);
  const what = (reason !== undefined ? NO_SPACE[reason] : undefined) ?? (cause instanceof Error ? cause.message : String(cause));
  // LMDB's native code may have printed "Write error: …" on stderr without a newline: end that line, so
  // the next JSON log line stays whole.
  writeOrDrop(process.stderr, "\n");
  return new StoreWriteError(`the server could not write to its store: ${what}; nothing of this batch was written`, reason);
}
