/**
 * What the store keeps of signals between entities whose operation failed (dead letters): a bounded
 * number per entity type, so that failures nobody was waiting for can be listed. Each lives in its
 * target entity's partition, keyed by entity type and `seq`.
 */

/** A failed signal between entities, as stored. */
export interface DeadLetter {
  /** Its place among the store's dead letters: a later one has a higher number (unique in the store). */
  readonly seq: number;
  /** The entity whose operation failed. */
  readonly target: string;
  readonly op: string;
  /** The signal's input, when it had one small enough to keep. */
  readonly input?: unknown;
  /** When the input was too large to keep: its size in characters of JSON. */
  readonly inputBytes?: number;
  /** The entity that sent the signal. */
  readonly source?: string;
  readonly code: string;
  readonly message: string;
  readonly atMs: number;
}

/** Where a dead letter is: its target's partition, its target's entity type, and its number. */
export interface DeadLetterAddress {
  readonly partition: number;
  readonly entityType: string;
  readonly seq: number;
}

/** Which dead letters to read: newest first, below `before`, at most `limit`; of one entity type or of all. */
export interface DeadLetterQuery {
  readonly entityType?: string;
  readonly limit: number;
  /** Only those with a lower `seq`. */
  readonly before?: number;
  /** Only those of these partitions (of the store's own; cluster mode asks each partition's owner). Default: every one. */
  readonly partitions?: readonly number[];
}

/** The dead-letter part of a write batch. */
export interface DeadLetterWrites {
  /** Writes a dead letter in its target's partition and returns where it was put. */
  putDeadLetter(letter: DeadLetter): DeadLetterAddress;
  deleteDeadLetter(address: DeadLetterAddress): void;
}

/** The dead-letter part of the store's reads. */
export interface DeadLetterReads {
  /** Where every stored dead letter of an entity type is, oldest first. */
  readDeadLetterAddresses(entityType: string): DeadLetterAddress[];
  /** The highest `seq` of any stored dead letter (0 when there is none). */
  lastDeadLetterSeq(): number;
  /** Dead letters newest first (by `seq`), across partitions. */
  readDeadLetters(query: DeadLetterQuery): DeadLetter[];
}

/** The entity type of an entity id (`Counter` of `Counter/alice`). */
export function entityTypeOf(entityId: string): string {
  return entityId.slice(0, entityId.indexOf("/"));
}
