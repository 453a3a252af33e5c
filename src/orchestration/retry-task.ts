import { CompletableTask } from "./completable-task.js";
import type { FailureDetails } from "./history-events.js";
import type { RetryOptions } from "./retry-options.js";
import { nextRetryDelay } from "./retry-policy.js";
import { TaskFailedError, type FailedTaskKind } from "./task-errors.js";

/** How a scheduled activity or sub-orchestration ended, as its history event says. */
export type TaskOutcome = { readonly ok: true; readonly result: unknown } | { readonly ok: false; readonly failure: FailureDetails };

/** What a task of an activity or sub-orchestration needs from the execution. */
export interface AttemptHost {
  /** The orchestration's current time (epoch ms). */
  now(): number;
  /** Asks for one attempt (a new action id); `settled` hears how it ended. */
  attempt(settled: (outcome: TaskOutcome, id: number) => void): void;
  /** Asks for a durable timer `delayMs` from now; `fired` runs when it fires. */
  wait(delayMs: number, fired: () => void): void;
  /** Runs user code (the retry predicate) with replay-safe globals. */
  runUserCode<T>(fn: () => T): T;
}

/**
 * The task of an activity or sub-orchestration call. With retry options, a failed attempt is
 * followed by a durable timer for the backoff and then a new attempt (new action ids), until an
 * attempt succeeds or the options say stop; then the last failure fails the task.
 */
export class CallTask<T> extends CompletableTask<T> {
  #attempts = 0;
  readonly #startMs: number;

  constructor(
    private readonly kind: FailedTaskKind,
    private readonly taskName: string,
    private readonly retry: RetryOptions | undefined,
    private readonly host: AttemptHost,
  ) {
    super();
    this.#startMs = host.now();
    this.#launch();
  }

  #launch(): void {
    this.#attempts += 1;
    this.host.attempt((outcome, id) => this.#settled(outcome, id));
  }

  #settled(outcome: TaskOutcome, id: number): void {
    if (outcome.ok) {
      this.complete(outcome.result as T);
      return;
    }
    const error = new TaskFailedError(this.kind, this.taskName, id, outcome.failure);
    const delay = this.retry === undefined ? undefined : nextRetryDelay(this.retry, this.#attempts, this.#startMs, this.host.now());
    if (delay !== undefined && this.#shouldRetry(error)) this.host.wait(delay, () => this.#launch());
    else if (!this.isCompleted) this.fail(error);
  }

  /** Asks the user's predicate; a predicate that throws fails the task with its error. */
  #shouldRetry(error: TaskFailedError): boolean {
    const handle = this.retry?.handle;
    if (handle === undefined) return true;
    try {
      return Boolean(this.host.runUserCode(() => handle(error)));
    } catch (thrown) {
      this.fail(thrown);
      return false;
    }
  }
}
