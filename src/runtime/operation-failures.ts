import type { FailurePageWire } from "../../protocol/index.js";
import type { Logger } from "../log.js";
import type { EntityStore, WriteBatch } from "../storage/index.js";
import type { Clock } from "./clock.js";
import { DeadLetterBook, type FailureQuery } from "./dead-letter-book.js";
import type { TurnFailure } from "./entity-turn.js";
import { FailureLog, type FailureLogOptions } from "./failure-log.js";

export interface OperationFailuresOptions {
  /** Failed signals between entities kept per entity type, the newest (default 1,000; 0 keeps none). */
  readonly maxPerType?: number | undefined;
  readonly log?: FailureLogOptions | undefined;
}

/**
 * What the runtime does with a failed operation: logs it (at `warn`, with its stack, bounded per
 * entity type), and keeps a failed signal from another entity, which nobody waits for, as a dead
 * letter in the batch of the turn that failed it.
 */
export class OperationFailures {
  private readonly book: DeadLetterBook;
  private readonly log: FailureLog;

  constructor(store: EntityStore, log: Logger, clock: Clock, options: OperationFailuresOptions = {}) {
    this.book = new DeadLetterBook(store, options.maxPerType ?? 1000);
    this.log = new FailureLog(log, clock, options.log);
  }

  /** One failed operation of a turn of `entityId` (of type `entityType`), going into `batch`. */
  failed(entityId: string, entityType: string, failure: TurnFailure, batch: WriteBatch, nowMs: number): void {
    const { request } = failure;
    this.log.failed(entityType, () => {
      const stack = failure.thrown instanceof Error ? failure.thrown.stack : undefined;
      return {
        entityId,
        operation: request.op,
        kind: request.kind,
        code: failure.code,
        error: failure.message,
        ...(request.source === undefined ? {} : { source: request.source }),
        ...(stack === undefined ? {} : { stack }),
      };
    });
    // Only a signal from the durable mailbox has nobody to answer: a client's caller got the error (and a
    // resend gets it again), and a call (from a client or, through the mailbox, an orchestration) is answered.
    if (request.message === undefined || request.kind !== "signal") return;
    this.book.record(batch, {
      target: entityId,
      op: request.op,
      ...(request.input === undefined ? {} : { input: request.input }),
      ...(request.source === undefined ? {} : { source: request.source }),
      code: failure.code,
      message: failure.message,
      atMs: nowMs,
    });
  }

  /** After a failed commit (see EntityRuntime.reset). */
  reset(): void {
    this.book.reset();
  }

  /** A page of committed failed signals, newest first. */
  list(query: FailureQuery): FailurePageWire {
    return this.book.list(query);
  }

  /** Reports what the log left out so far (the runtime is closing). */
  close(): void {
    this.log.close();
  }
}
