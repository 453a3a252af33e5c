/**
 * A signal from one entity to another whose operation failed (it threw, or its input schema refused
 * the input). Nobody waits for such a signal's answer, so the server keeps it: the newest 1,000 per
 * entity type by default. The stack trace is in the server's log, not here.
 */
export interface FailedSignal {
  /** Its place among the failures: a later failure has a higher number. */
  readonly seq: number;
  /** When it failed, ISO-8601 UTC. */
  readonly time: string;
  /** The entity whose operation failed. */
  readonly entityId: string;
  readonly operation: string;
  /** The signal's input (absent when it had none, or when it was too large to keep: see `inputBytes`). */
  readonly input?: unknown;
  /** Set instead of `input` when the input was larger than the server keeps (64 KiB of JSON): its size. */
  readonly inputBytes?: number;
  /** The entity that sent the signal. */
  readonly source?: string;
  /** `operation_failed` (it threw), `bad_request` (its input was refused), `unknown_operation`. */
  readonly code: string;
  /** The error's message, as a caller would have got it (`Counter/alice add: …`). */
  readonly message: string;
}

/** Which failed signals to list: newest first. */
export interface FailureQuery {
  /** Only this entity type's (`"Counter"`); default: every type's. */
  readonly entityType?: string;
  /** At most this many (default 100, at most 1,000; a page also ends at about 1 MiB). */
  readonly limit?: number;
  /** Only those older than this one: the previous page's `next`. */
  readonly before?: number;
}

/** One page of failed signals, newest first. */
export interface FailurePage {
  readonly failures: FailedSignal[];
  /** Present when older failures may follow: pass it as `before`. */
  readonly next?: number;
}
