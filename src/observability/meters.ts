/**
 * What the runtime records, as the runtime sees it: small interfaces with no metrics library behind
 * them, so the runtime, the orchestration host and the commit pipeline depend only on these (and run
 * without any: every meter is optional). `metrics.ts` implements them over prom-client.
 */

/** The label of an operation, entity type, orchestration or activity this app does not define (labels stay bounded). */
export const UNKNOWN_LABEL = "(unknown)";

/** The commit pipeline's side: how long each tick's commit took, how much it held, and the commits that failed. */
export interface CommitMeter {
  /** The store reported a tick's transaction done, `seconds` after the commit was asked for. */
  committed(seconds: number): void;
  /** A tick's transaction was flushed (durable: the output gate opens), `seconds` after the commit was asked for. */
  flushed(seconds: number): void;
  /** A tick was committed holding this many entity operations and orchestration turns. */
  batch(operations: number): void;
  /** A tick's transaction did not reach the disk (a full disk, a map that cannot grow, a write LMDB refuses). */
  commitFailed(): void;
}

/** The entity runtime's side: operations by entity type, operation and outcome, and how long they took. */
export interface EntityMeter {
  /** The tally of an entity type (of {@link UNKNOWN_LABEL} for a type the app lacks); look it up once per turn, not per operation. */
  tallyOf(entityType: string): OperationTally;
  /** An operation refused before it was queued: a bad entity id, or a type or operation the app lacks. */
  rejected(entityId: string, operation: string): void;
}

/** One entity type's counts. Each call is a few additions: this is the runtime's hot path. */
export interface OperationTally {
  /** An operation ran in a turn (or was refused there: its input, a name the type lacks); `seconds` is its share of the turn. */
  ran(operation: string, failed: boolean, seconds: number): void;
  /** A read of the state was answered. */
  read(): void;
}

/** How an orchestration execution ended. */
export type ExecutionEnd = "Completed" | "Failed" | "Terminated" | "ContinuedAsNew";

/** The orchestration host's side: executions started and finished, activities run. */
export interface OrchestrationMeter {
  /** An execution started: a new instance, or the next execution of one that continued as new. */
  started(name: string): void;
  finished(name: string, end: ExecutionEnd): void;
  /** An activity ran to an outcome (a failure includes a timeout) in `seconds`. */
  activityRan(name: string, ok: boolean, seconds: number): void;
}
