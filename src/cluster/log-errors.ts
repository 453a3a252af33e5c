/**
 * Another writer appended to the partition's log since this writer's last append: a newer owner took
 * the partition over. The refused batch is not in the log, and neither is any batch this writer sends
 * after it; the writer must stop serving the partition.
 */
export class LogFencedError extends Error {
  readonly code = "log_fenced";

  constructor(
    readonly partition: number,
    readonly batchId: string,
    /** The batch id the log ends with now, when the stream said (it names the newer owner's batch). */
    readonly actualLastBatchId?: string,
  ) {
    super(`partition ${partition}: batch ${batchId} was refused because another writer appended to the log${actualLastBatchId ? ` (it now ends with ${actualLastBatchId})` : ""}; this node no longer owns the partition`);
    this.name = "LogFencedError";
  }
}

/**
 * An append that got no answer from the stream within its time limit (no quorum of replicas, no
 * server reachable). Its batch may or may not be in the log; a writer learns which by reopening the
 * log and reading its last entry. Every later append of this writer is refused with this error too,
 * because each names its predecessor and cannot be placed after a batch of unknown fate.
 */
export class LogUnavailableError extends Error {
  readonly code = "log_unavailable";

  constructor(
    readonly partition: number,
    readonly batchId: string,
    override readonly cause: unknown,
  ) {
    super(`partition ${partition}: batch ${batchId} got no acknowledgement from the log: ${cause instanceof Error ? cause.message : String(cause)}`);
    this.name = "LogUnavailableError";
  }
}

/** Tag checks, for errors that crossed a module boundary where `instanceof` may not hold. */
export function isLogFencedError(error: unknown): error is LogFencedError {
  return typeof error === "object" && error !== null && (error as { code?: unknown }).code === "log_fenced";
}

export function isLogUnavailableError(error: unknown): error is LogUnavailableError {
  return typeof error === "object" && error !== null && (error as { code?: unknown }).code === "log_unavailable";
}

/** An entry a reader needed is no longer in the log: it was purged behind a snapshot while reading. Read again from the latest snapshot. */
export class LogTrimmedError extends Error {
  readonly code = "log_trimmed";

  constructor(
    readonly partition: number,
    readonly sequence: number,
  ) {
    super(`partition ${partition}: log entry ${sequence} is gone (purged behind a snapshot)`);
    this.name = "LogTrimmedError";
  }
}
