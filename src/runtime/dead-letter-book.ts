import type { FailedSignalWire, FailurePageWire } from "../../protocol/index.js";
import { entityTypeOf, type DeadLetter, type DeadLetterAddress, type EntityStore, type WriteBatch } from "../storage/index.js";

/** Inputs up to this many bytes of JSON are kept with their failure; a larger one is kept as its size. */
const MAX_KEPT_INPUT_BYTES = 64 * 1024;
/** Error messages are kept up to this many characters. */
const MAX_KEPT_MESSAGE = 4096;
/** About the most characters of failures one page carries (at least one failure). */
export const MAX_PAGE_CHARS = 1024 * 1024;
export const DEFAULT_PAGE = 100;

/** A failed signal between entities, before it has its number. */
export type FailedSignal = Omit<DeadLetter, "seq" | "inputBytes">;

/** Which failures to list: newest first, of one entity type or of all, older than `before`. */
export interface FailureQuery {
  readonly entityType?: string | undefined;
  readonly limit?: number | undefined;
  readonly before?: number | undefined;
}

/**
 * The dead letters of the runtime: failed signals between entities, written in the batch of the
 * turn that failed them (so they are as durable as the turn), the newest `maxPerType` kept per
 * entity type (the oldest beyond it are deleted in the same batch; with a bound of 0, a type's next
 * failure deletes every letter it has). Knows, per type that failed
 * since the start, where its stored letters are (read once from the store), and numbers new letters
 * after the highest stored one.
 */
export class DeadLetterBook {
  private lastSeq: number | undefined;
  /** Per entity type, where its letters are, oldest first: those stored and those written since. */
  private readonly held = new Map<string, DeadLetterAddress[]>();

  constructor(
    private readonly store: EntityStore,
    private readonly maxPerType: number,
  ) {}

  /** Adds a failed signal to the batch, and deletes its type's oldest letters beyond the bound. */
  record(batch: WriteBatch, failed: FailedSignal): void {
    const entityType = entityTypeOf(failed.target);
    let held = this.held.get(entityType);
    if (held === undefined) {
      held = this.store.readDeadLetterAddresses(entityType);
      this.held.set(entityType, held);
    }
    if (this.maxPerType > 0) {
      this.lastSeq ??= this.store.lastDeadLetterSeq();
      held.push(batch.putDeadLetter({ ...kept(failed), seq: ++this.lastSeq }));
    }
    // Also those kept under a larger bound before a restart (with 0, every one of the type's).
    if (held.length > this.maxPerType) for (const old of held.splice(0, held.length - this.maxPerType)) batch.deleteDeadLetter(old);
  }

  /** After a failed commit: what it knew may be ahead of the store, so it reads the store again when next needed. */
  reset(): void {
    this.held.clear();
    this.lastSeq = undefined;
  }

  /** A page of committed failures, newest first, with where the next page starts (absent when there is none). */
  list(query: FailureQuery): FailurePageWire {
    const limit = query.limit ?? DEFAULT_PAGE;
    const letters = this.store.readDeadLetters({
      limit: limit + 1, // one more says whether another page follows
      ...(query.entityType === undefined ? {} : { entityType: query.entityType }),
      ...(query.before === undefined ? {} : { before: query.before }),
    });
    const failures: FailedSignalWire[] = [];
    let chars = 0;
    for (const letter of letters) {
      if (failures.length === limit || (failures.length > 0 && chars >= MAX_PAGE_CHARS)) return { failures, next: failures[failures.length - 1]!.seq };
      const failure = failureWire(letter);
      chars += JSON.stringify(failure).length;
      failures.push(failure);
    }
    return { failures };
  }
}

/** What is kept of a failure: a large input only as its size, a long message cut. */
function kept(failed: FailedSignal): Omit<DeadLetter, "seq"> {
  let letter: Omit<DeadLetter, "seq"> = failed.message.length > MAX_KEPT_MESSAGE ? { ...failed, message: `${failed.message.slice(0, MAX_KEPT_MESSAGE)}…` } : failed;
  if (letter.input !== undefined) {
    const bytes = Buffer.byteLength(JSON.stringify(letter.input));
    if (bytes > MAX_KEPT_INPUT_BYTES) {
      const { input: _input, ...rest } = letter;
      letter = { ...rest, inputBytes: bytes };
    }
  }
  return letter;
}

/** A stored dead letter as clients see it. */
export function failureWire(letter: DeadLetter): FailedSignalWire {
  return {
    seq: letter.seq,
    time: new Date(letter.atMs).toISOString(),
    entityId: letter.target,
    operation: letter.op,
    ...(letter.input === undefined ? {} : { input: letter.input }),
    ...(letter.inputBytes === undefined ? {} : { inputBytes: letter.inputBytes }),
    ...(letter.source === undefined ? {} : { source: letter.source }),
    code: letter.code,
    message: letter.message,
  };
}
