import { describeNonTask, isTask, type CompletableTask } from "./completable-task.js";
import type { FailureDetails } from "./history-events.js";
import { failureFromError } from "./json-payloads.js";

/** What the runner needs from its execution. */
export interface RunnerHost {
  readonly orchestrationName: string;
  /** False once the execution has ended. */
  readonly running: boolean;
  runUserCode<T>(fn: () => T): T;
  /** Ends the execution as Failed; `thrown` is what the code threw, when it threw (its stack goes to the server's log). */
  fail(failure: FailureDetails, thrown?: unknown): void;
  /** The generator returned `output`. */
  returned(output: unknown): void;
  /** Ends the execution as continued-as-new if the step just run called continueAsNew; true then. */
  endIfContinuedAsNew(): boolean;
}

type OrchestratorGenerator = Generator<unknown, unknown, unknown>;

/**
 * Drives the orchestrator's generator: one step at a time, each with replay-safe globals, and only
 * when the task it yielded has settled (its result is sent in, its error thrown in at the `yield`).
 */
export class OrchestratorRunner {
  #generator: OrchestratorGenerator | undefined;
  #waiting: CompletableTask<unknown> | undefined;

  constructor(private readonly host: RunnerHost) {}

  /** Calls the orchestrator function and runs the generator to its first pending task. */
  start(call: () => unknown): void {
    let made: unknown;
    try {
      made = this.host.runUserCode(call);
    } catch (error) {
      this.host.fail(failureFromError(error), error);
      return;
    }
    const problem = notAGenerator(made);
    if (problem !== undefined) {
      this.host.fail({ errorType: "TypeError", message: `orchestration "${this.host.orchestrationName}" ${problem}` });
      return;
    }
    this.#generator = made as OrchestratorGenerator;
    this.#step(undefined);
    this.resume();
  }

  /** Steps the generator while the task it waits for has settled. */
  resume(): void {
    while (this.#waiting?.isCompleted && this.host.running) {
      const settled = this.#waiting;
      this.#waiting = undefined;
      this.#step(settled);
    }
  }

  #step(settled: CompletableTask<unknown> | undefined): void {
    const generator = this.#generator!;
    let next: IteratorResult<unknown, unknown>;
    try {
      next = this.host.runUserCode(() => (settled === undefined ? generator.next() : settled.isFaulted ? generator.throw(settled.error) : generator.next(settled.result)));
    } catch (error) {
      this.host.fail(failureFromError(error), error);
      return;
    }
    if (this.host.endIfContinuedAsNew()) return;
    if (next.done) {
      this.host.returned(next.value);
    } else if (isTask(next.value)) {
      this.#waiting = next.value;
    } else {
      this.host.fail({ errorType: "TypeError", message: `orchestration "${this.host.orchestrationName}": ${yieldHint(next.value)}` });
    }
  }
}

function yieldHint(value: unknown): string {
  const got = describeNonTask(value);
  const base = `yield a task from ctx (callActivity, createTimer, waitForExternalEvent, Task.all, …); got ${got}`;
  if (got === "a Promise") return `${base}: orchestrators must not await`;
  if (got === "an array") return `${base}: to wait for several tasks, yield Task.all([...]) or Task.any([...])`;
  return base;
}

function notAGenerator(made: unknown): string | undefined {
  const iterator = made as Partial<OrchestratorGenerator> | null | undefined;
  if (typeof iterator === "object" && iterator !== null && typeof iterator.next === "function" && typeof iterator.throw === "function" && Symbol.iterator in iterator) {
    return undefined;
  }
  if (typeof iterator === "object" && iterator !== null && Symbol.asyncIterator in iterator) {
    return "is an async generator: orchestrators are function* (not async function*) and yield tasks instead of awaiting";
  }
  return `returned ${describeNonTask(made)}: an orchestrator is a generator function, function* (ctx, input) { … }, that yields tasks (and must not be async)`;
}
