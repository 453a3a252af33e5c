import type { Database } from "lmdb";
import type { EntityRecord, LockHolder } from "./entity-store.js";

/**
 * Which entity records to list: one entity type (exact name), optionally a key prefix and a window
 * of last-modified times, one page at a time in one global order (by id, in Unicode code point
 * order, across every partition), continuing after the last id a previous page covered.
 */
export interface EntityListingQuery {
  /** The entity type: its name exactly as the ids hold it (`Counter` lists `Counter/…`). */
  readonly type: string;
  /** Only keys that start with this (the part after `Type/`). */
  readonly keyPrefix?: string;
  /**
   * Only records last written at or after / at or before this time (epoch ms, inclusive). A record
   * written before records kept the time (it has no `modifiedAt`) matches no time window.
   */
  readonly modifiedFrom?: number;
  readonly modifiedTo?: number;
  /** Also records without state: deleted entities not yet cleaned, and entities that only hold a lock (default false). */
  readonly includeDeleted?: boolean;
  /** Put each entity's state in the page (default false). */
  readonly includeState?: boolean;
  /** Most entities in the page. */
  readonly pageSize: number;
  /** Only ids after this one: the previous page's `next`. */
  readonly after?: string;
  /** Most records the page reads before it ends early (a selective filter then answers a short page and a `next`). Default: 10 × pageSize, at least 10,000. */
  readonly maxScan?: number;
  /** About the most bytes of records one page carries (at least one entity); default 1 MiB. */
  readonly maxBytes?: number;
  /** A further condition on the stored record (used by `clean` to find empty and locked entities). */
  readonly where?: (id: string, record: EntityRecord) => boolean;
  /** Only these partitions (of those read; cluster mode asks each partition's owner for its part). Default: all of them. */
  readonly partitions?: readonly number[];
}

/** One entity of a listing. */
export interface ListedEntity {
  readonly id: string;
  readonly version: number;
  /** When its record was last written (epoch ms); absent for records written by versions that did not keep it. */
  readonly modifiedAt?: number;
  /** With `includeState`, when it has one. */
  readonly state?: unknown;
  /** The orchestration execution holding it in a critical section, if one does. */
  readonly lock?: LockHolder;
}

/** A page of a listing. */
export interface EntityListing {
  readonly entities: ListedEntity[];
  /** The last id the page covered: pass it as `after` for the next page. Undefined when nothing follows. */
  readonly next?: string;
}

/** Records the count reads per event-loop turn (it lets other work run between chunks). */
const COUNT_CHUNK = 5_000;
const MIN_SCAN = 10_000;
const MAX_PAGE_BYTES = 1024 * 1024;
/**
 * Most bytes of records a page, or a chunk of a count, reads (each record is read whole, state and
 * all, to filter it): with large states, a page ends short and a count yields, rather than stall the
 * server on gigabytes. A page reads this many times its byte bound.
 */
const READ_BYTES_PER_PAGE_BYTE = 8;
const COUNT_CHUNK_BYTES = READ_BYTES_PER_PAGE_BYTE * MAX_PAGE_BYTES;

type Key = [partition: number, kind: "e", id: string];
type Entries = Iterator<{ key: unknown; value: string }>;

/** One partition's place in a merged scan: its iterator and the entry it is at. */
interface Head {
  readonly entries: Entries;
  id: string;
  value: string;
}

/**
 * A page of entity records across all `partitions`, merged into one order by id (each partition
 * is read in its key order and the heads are merged, so a page holds at most one record per
 * partition beyond what it returns). Synchronous: it reads one LMDB snapshot.
 */
export function listEntities(db: Database<string, Key>, partitions: readonly number[], query: EntityListingQuery): EntityListing {
  const maxScan = query.maxScan ?? Math.max(MIN_SCAN, 10 * query.pageSize);
  const maxBytes = query.maxBytes ?? MAX_PAGE_BYTES;
  const heads = new MergeHeap(openHeads(db, only(partitions, query.partitions), query));
  const maxRead = READ_BYTES_PER_PAGE_BYTE * maxBytes;
  const entities: ListedEntity[] = [];
  let scanned = 0;
  let bytes = 0;
  let read = 0;
  let last: string | undefined;
  try {
    while (heads.size > 0) {
      if (entities.length >= query.pageSize || scanned >= maxScan || bytes >= maxBytes || read >= maxRead) return { entities, next: last };
      const head = heads.top;
      last = head.id;
      scanned++;
      read += head.value.length;
      const record = JSON.parse(head.value) as EntityRecord;
      if (matches(query, head.id, record)) {
        entities.push(listed(head.id, record, query.includeState === true));
        bytes += query.includeState === true ? head.value.length : head.id.length + 40;
      }
      heads.advance(nextEntry(head.entries, prefixOf(query)));
    }
    return { entities };
  } finally {
    heads.close();
  }
}

/**
 * How many records match the query (its page size, `after` and byte bound aside), across every
 * partition. Reads in chunks and lets the event loop run between them, so counting millions of
 * entities does not stall the server; records written meanwhile may or may not be counted.
 */
export async function countEntities(db: Database<string, Key>, partitions: readonly number[], query: Omit<EntityListingQuery, "pageSize" | "after">): Promise<number> {
  const prefix = prefixOf(query);
  const needsRecord = query.includeDeleted !== true || query.modifiedFrom !== undefined || query.modifiedTo !== undefined || query.where !== undefined;
  let count = 0;
  for (const partition of only(partitions, query.partitions)) {
    let after: string | undefined;
    for (;;) {
      let read = 0;
      let bytes = 0;
      const range = db.getRange({ ...rangeOf(partition, query.type, prefix, after), limit: COUNT_CHUNK });
      for (const { key, value } of range) {
        const id = (key as Key)[2];
        if (!id.startsWith(prefix)) break;
        read++;
        after = id;
        if (!needsRecord || matches(query, id, JSON.parse(value) as EntityRecord)) count++;
        bytes += value.length;
        if (bytes >= COUNT_CHUNK_BYTES) break;
      }
      const more = read === COUNT_CHUNK || bytes >= COUNT_CHUNK_BYTES;
      if (read > 0) await new Promise((resolve) => setImmediate(resolve));
      if (!more) break;
    }
  }
  return count;
}

/** Compares ids in Unicode code point order: the order of their UTF-8 bytes, which is LMDB's key order. */
export function compareIds(a: string, b: string): number {
  const length = Math.min(a.length, b.length);
  for (let i = 0; i < length; i++) {
    let x = a.charCodeAt(i);
    let y = b.charCodeAt(i);
    if (x === y) continue;
    // UTF-16 puts surrogates (astral characters) below U+E000–U+FFFF; code point order puts them above.
    if (x >= 0xd800 && y >= 0xd800) {
      x = x >= 0xe000 ? x - 0x800 : x + 0x2000;
      y = y >= 0xe000 ? y - 0x800 : y + 0x2000;
    }
    return x - y;
  }
  return a.length - b.length;
}

/** The partitions of `all` that `wanted` names (all of them when it names none). */
function only(all: readonly number[], wanted: readonly number[] | undefined): readonly number[] {
  return wanted === undefined ? all : all.filter((partition) => wanted.includes(partition));
}

function prefixOf(query: Pick<EntityListingQuery, "type" | "keyPrefix">): string {
  return `${query.type}/${query.keyPrefix ?? ""}`;
}

/** The key range of one partition's records of a type from `prefix` on (after `after`, when it lies past the prefix's start). */
function rangeOf(partition: number, type: string, prefix: string, after: string | undefined) {
  // Every id of the type starts with `Type/`; `Type0` ("/" + 1) is the first key past all of them.
  const end: Key = [partition, "e", `${type}0`];
  if (after !== undefined && compareIds(after, prefix) >= 0) return { start: [partition, "e", after] as Key, exclusiveStart: true, end };
  return { start: [partition, "e", prefix] as Key, end };
}

function openHeads(db: Database<string, Key>, partitions: readonly number[], query: EntityListingQuery): Head[] {
  const prefix = prefixOf(query);
  const heads: Head[] = [];
  for (const partition of partitions) {
    const entries = db.getRange(rangeOf(partition, query.type, prefix, query.after))[Symbol.iterator]() as Entries;
    const first = nextEntry(entries, prefix);
    if (first !== undefined) heads.push({ entries, id: first.id, value: first.value });
  }
  return heads;
}

/** The partition's next record within the prefix, or undefined (and its iterator closed) when it has no more. */
function nextEntry(entries: Entries, prefix: string): { id: string; value: string } | undefined {
  const step = entries.next();
  if (!step.done) {
    const id = (step.value.key as Key)[2];
    if (id.startsWith(prefix)) return { id, value: step.value.value };
  }
  entries.return?.();
  return undefined;
}

function matches(query: Omit<EntityListingQuery, "pageSize">, id: string, record: EntityRecord): boolean {
  if (record.state === undefined && query.includeDeleted !== true) return false;
  if (query.modifiedFrom !== undefined || query.modifiedTo !== undefined) {
    const at = record.modifiedAt;
    if (at === undefined) return false;
    if (query.modifiedFrom !== undefined && at < query.modifiedFrom) return false;
    if (query.modifiedTo !== undefined && at > query.modifiedTo) return false;
  }
  return query.where === undefined || query.where(id, record);
}

function listed(id: string, record: EntityRecord, includeState: boolean): ListedEntity {
  return {
    id,
    version: record.version,
    ...(record.modifiedAt === undefined ? {} : { modifiedAt: record.modifiedAt }),
    ...(includeState && record.state !== undefined ? { state: record.state } : {}),
    ...(record.lock === undefined ? {} : { lock: record.lock }),
  };
}

/** The partitions' heads, smallest id on top (a binary heap: one comparison per level per record). */
class MergeHeap {
  constructor(private readonly heads: Head[]) {
    for (let i = (heads.length >> 1) - 1; i >= 0; i--) this.down(i);
  }

  get size(): number {
    return this.heads.length;
  }

  get top(): Head {
    return this.heads[0]!;
  }

  /** The top's partition moved on to `next` (or ran out). */
  advance(next: { id: string; value: string } | undefined): void {
    const top = this.heads[0]!;
    if (next === undefined) {
      const tail = this.heads.pop()!;
      if (this.heads.length === 0) return;
      this.heads[0] = tail;
    } else {
      top.id = next.id;
      top.value = next.value;
    }
    this.down(0);
  }

  close(): void {
    for (const head of this.heads.splice(0)) head.entries.return?.();
  }

  private down(index: number): void {
    const heads = this.heads;
    for (;;) {
      const left = 2 * index + 1;
      if (left >= heads.length) return;
      const right = left + 1;
      const child = right < heads.length && compareIds(heads[right]!.id, heads[left]!.id) < 0 ? right : left;
      if (compareIds(heads[child]!.id, heads[index]!.id) >= 0) return;
      [heads[child], heads[index]] = [heads[index]!, heads[child]!];
      index = child;
    }
  }
}
