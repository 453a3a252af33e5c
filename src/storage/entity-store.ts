import type { DeadLetterReads, DeadLetterWrites } from "./dead-letters.js";
import type { EntityListing, EntityListingQuery } from "./entity-listing.js";
import type { InstanceReads, InstanceWrites } from "./instance-records.js";

/**
 * The store's contract. The key space is split into a fixed number of partitions by a hash of the
 * entity id; each partition holds its entities' records, their signal marks and failures
 * (de-duplication), its own mailbox of messages between entities, and its entities' dead letters
 * (failed signals between entities). Writes are collected in a WriteBatch and committed atomically;
 * `commit` resolves only when the batch is durable on disk (not merely committed), which is what the
 * output gate waits for.
 */

/** What is stored for an entity. `state` is absent when the entity does not exist (never made, or deleted). */
export interface EntityRecord {
  /** Count of committed changes of the state. */
  readonly version: number;
  /** When a commit last wrote the record (epoch ms, the runtime's clock); absent in records written before it was kept. */
  readonly modifiedAt?: number;
  readonly state?: unknown;
  /** The orchestration holding the entity in a critical section, if one does. */
  readonly lock?: LockHolder;
}

/** The last signal number of one client applied to one entity, and when (ms): kept for de-duplication. */
export type SignalMark = readonly [seq: number, atMs: number];

/**
 * A signal that failed (its operation threw): the error it was answered with and when (ms). Kept for
 * the de-duplication window, so that a resend of it is answered with the same error, not acked.
 */
export type SignalFailure = readonly [code: string, message: string, atMs: number];

/** Where a page of a scan ended (opaque to callers). */
export type PageCursor = { readonly brand: "PageCursor" };

/** Part of a scan of a partition, in key order. */
export interface Page<T> {
  readonly entries: T[];
  /** Pass to the next read; undefined once the scan is complete. */
  readonly next: PageCursor | undefined;
}

/** A signal to an entity (from another entity, or later an orchestration), kept in the target's partition mailbox until applied. */
export interface EntityMessage {
  readonly kind?: undefined;
  readonly target: string;
  readonly op: string;
  readonly input?: unknown;
  readonly source?: string;
  /** An orchestration's call: the answer goes back to the instance as a raised event of this name. */
  readonly reply?: InstanceReply;
  /** The orchestration instance that sent it: its messages pass a lock it holds. */
  readonly holder?: LockHolder;
  /** The lock protocol (ops `@lock` and `@release`): the whole set, in the order it is acquired. */
  readonly lock?: { readonly entities: readonly string[]; readonly grant: string };
  /** A scheduled signal: applied at this time (epoch ms), not before. */
  readonly at?: number;
}

/** An orchestration instance's execution, as the holder of entity locks. */
export interface LockHolder {
  readonly instanceId: string;
  readonly generation: number;
}

/** Where an entity's answer to an orchestration goes: an event of `event`'s name, for that execution. */
export interface InstanceReply extends LockHolder {
  readonly event: string;
}

/** A message to an orchestration instance (its start, a result, a raised event, …): `event` is what its turn records. */
export interface InstanceMessage {
  readonly kind: "instance";
  /** The instance id. */
  readonly target: string;
  readonly event: unknown;
  readonly source?: string;
}

/** What waits in a partition's durable mailbox (in the target's partition). */
export type MailboxMessage = EntityMessage | InstanceMessage;

/** Where a mailbox message lives: its partition and its sequence number there. */
export interface MailboxAddress {
  readonly partition: number;
  readonly seq: number;
  /** Cluster mode: the message went to its sender's partition's outbox (`partition` is the sender's), not to a mailbox. */
  readonly outbox?: true;
}

/** One atomic group of writes. Values are captured (encoded) when added, so later changes cannot leak in. */
export interface WriteBatch extends InstanceWrites, DeadLetterWrites {
  putEntity(id: string, record: EntityRecord): void;
  deleteEntity(id: string): void;
  /**
   * Appends to the mailbox of the target's partition and returns where the message was put. `from` is
   * the sending actor's id: in cluster mode, a message to another partition than the sender's goes to
   * the sender's partition's outbox instead (the address says so), and the cluster delivers it.
   */
  appendMessage(message: MailboxMessage, from?: string): MailboxAddress;
  deleteMessage(address: MailboxAddress): void;
  putSignalMark(entityId: string, clientId: string, mark: SignalMark): void;
  deleteSignalMark(entityId: string, clientId: string): void;
  putSignalFailure(entityId: string, clientId: string, seq: number, failure: SignalFailure): void;
  deleteSignalFailure(entityId: string, clientId: string, seq: number): void;
  /** Cluster mode: a value the cluster keeps in a partition (inbox positions), written with the partition's other writes. */
  putPartitionValue(partition: number, name: string, value: unknown): void;
  readonly size: number;
}

/** The store: entities, signal marks, mailboxes, dead letters, and orchestration instances with their history, timers and work items. */
export interface EntityStore extends InstanceReads, DeadLetterReads {
  readonly partitionCount: number;
  partitionOf(id: string): number;
  /** The partitions this process owns (all of them, unless a cluster assigns it a subset). */
  readonly localPartitions: readonly number[];
  /** True when the partition of an entity id or instance id is one this process owns. */
  isLocal(id: string): boolean;
  /** Reads the committed record (synchronous: LMDB reads are memory-mapped). */
  readEntity(id: string): EntityRecord | undefined;
  /** A page of one entity type's committed records, in one order by id across all partitions (see entity-listing.ts). */
  listEntities(query: EntityListingQuery): EntityListing;
  /** How many committed records match the query, page aside (reads in chunks between event-loop turns). */
  countEntities(query: Omit<EntityListingQuery, "pageSize" | "after">): Promise<number>;
  /** The last signal of `clientId` applied to the entity, if one is stored. */
  readSignalMark(entityId: string, clientId: string): SignalMark | undefined;
  /** Up to `limit` stored signal marks of a partition, after the page that `after` ended. */
  readSignalMarks(partition: number, limit: number, after?: PageCursor): Page<[entityId: string, clientId: string, mark: SignalMark]>;
  /** The stored failure of one client's signal `seq` to an entity, if it failed. */
  readSignalFailure(entityId: string, clientId: string, seq: number): SignalFailure | undefined;
  /** Up to `limit` stored signal failures of a partition, after the page that `after` ended. */
  readSignalFailures(partition: number, limit: number, after?: PageCursor): Page<[entityId: string, clientId: string, seq: number, failure: SignalFailure]>;
  /** Every message waiting in a partition's mailbox, in the order it was appended. */
  readMailbox(partition: number): Iterable<[MailboxAddress, MailboxMessage]>;
  newBatch(): WriteBatch;
  /**
   * Commits the batch in one transaction; resolves once it is flushed to disk. Commits are chained:
   * one whose predecessor failed is refused too ({@link StoreWriteError}), since its batch was built on
   * memory that included the failed one's writes; after a failure, call `resync` once every commit in
   * flight has settled. `onCommitted` is called when the store reports the transaction done, before the
   * wait for the flush (for the commit metric; LMDB as opened here reports it done once it is flushed).
   */
  commit(batch: WriteBatch, onCommitted?: () => void): Promise<void>;
  /** After a failed commit (and once every commit in flight has settled): the next commit follows what is on disk (in cluster mode, in the logs). */
  resync(): Promise<void>;
  /** Resolves once everything committed so far is durable. */
  durable(): Promise<void>;
  close(): Promise<void>;
}

/**
 * A commit that did not reach the disk: the disk or the store's map is full, the disk failed, or an
 * earlier commit it followed failed. Nothing of its batch was written.
 */
export class StoreWriteError extends Error {
  constructor(
    message: string,
    /** The store's own error (errno-like code), when it gave one. */
    readonly reason?: string,
    /**
     * Cluster mode: the partitions whose part of the batch did become durable (each partition has its
     * own log, and a commit can reach some and not others). Their actors' requests were applied.
     */
    readonly landed?: ReadonlySet<number>,
    /** Cluster mode: a part got no answer from its log, so it may be there: its requests may have been applied. */
    readonly fateUnknown = false,
  ) {
    super(message);
    this.name = "StoreWriteError";
  }
}
