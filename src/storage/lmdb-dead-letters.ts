import type { Database, Key } from "lmdb";
import type { DeadLetter, DeadLetterAddress, DeadLetterQuery } from "./dead-letters.js";

/**
 * The LMDB key layout of dead letters: `[p, "d", entityType, seq]` in the target entity's partition,
 * so a type's letters in a partition sort oldest first and read newest first backwards. The value is
 * the letter without its seq, as JSON.
 */
export type DeadLetterKey = [partition: number, kind: "d", entityType: string, seq: number];

type Db = Database<string, Key>;
/** A stored key, read back as the array it was written as. */
type Parts = readonly unknown[];
type StoredLetter = Omit<DeadLetter, "seq">;

export const deadLetterKey = (address: DeadLetterAddress): DeadLetterKey => [address.partition, "d", address.entityType, address.seq];

export function encodeDeadLetter(letter: DeadLetter): string {
  const { seq: _seq, ...stored } = letter;
  return JSON.stringify(stored);
}

/** Reads of the dead-letter table, for the store. */
export class LmdbDeadLetters {
  constructor(
    private readonly db: Db,
    private readonly partitions: readonly number[],
  ) {}

  readDeadLetterAddresses(entityType: string): DeadLetterAddress[] {
    const addresses: DeadLetterAddress[] = [];
    for (const partition of this.partitions) {
      for (const key of this.db.getKeys({ start: [partition, "d", entityType], end: [partition, "d", entityType, Infinity] })) {
        addresses.push({ partition, entityType, seq: (key as Parts)[3] as number });
      }
    }
    return addresses.sort((a, b) => a.seq - b.seq);
  }

  lastDeadLetterSeq(): number {
    let last = 0;
    for (const partition of this.partitions) {
      for (const entityType of this.typesIn(partition)) {
        for (const key of this.db.getKeys({ start: [partition, "d", entityType, Infinity], end: [partition, "d", entityType], reverse: true, limit: 1 })) {
          last = Math.max(last, (key as Parts)[3] as number);
        }
      }
    }
    return last;
  }

  /**
   * Merges the partitions' (and, without a type, every type's) ranges newest first, reading each
   * only as far as the page needs.
   */
  readDeadLetters(query: DeadLetterQuery): DeadLetter[] {
    const upper = query.before ?? Infinity;
    const heads: Array<{ rest: Iterator<{ key: Key; value: string }>; key: Parts; value: string }> = [];
    const iterators: Array<Iterator<{ key: Key; value: string }>> = [];
    const partitions = query.partitions === undefined ? this.partitions : this.partitions.filter((partition) => query.partitions!.includes(partition));
    try {
      for (const partition of partitions) {
        for (const entityType of query.entityType === undefined ? this.typesIn(partition) : [query.entityType]) {
          const range = this.db.getRange({ start: [partition, "d", entityType, upper], exclusiveStart: true, end: [partition, "d", entityType], reverse: true, limit: query.limit });
          const rest = range[Symbol.iterator]();
          iterators.push(rest);
          const first = rest.next();
          if (!first.done) heads.push({ rest, key: first.value.key as Parts, value: first.value.value });
        }
      }
      const letters: DeadLetter[] = [];
      while (letters.length < query.limit && heads.length > 0) {
        let newest = 0;
        for (let i = 1; i < heads.length; i++) if ((heads[i]!.key[3] as number) > (heads[newest]!.key[3] as number)) newest = i;
        const head = heads[newest]!;
        letters.push({ seq: head.key[3] as number, ...(JSON.parse(head.value) as StoredLetter) });
        const next = head.rest.next();
        if (next.done) heads.splice(newest, 1);
        else Object.assign(head, { key: next.value.key as Parts, value: next.value.value });
      }
      return letters;
    } finally {
      for (const iterator of iterators) iterator.return?.();
    }
  }

  /** The entity types with dead letters in a partition: one key read per type (each skips past its type's letters). */
  private typesIn(partition: number): string[] {
    const types: string[] = [];
    let start: Key = [partition, "d"];
    for (;;) {
      let found: string | undefined;
      for (const key of this.db.getKeys({ start, end: [partition, "e"], limit: 1 })) found = (key as Parts)[2] as string;
      if (found === undefined) return types;
      types.push(found);
      start = [partition, "d", found, Infinity];
    }
  }
}
