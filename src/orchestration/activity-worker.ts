import { errorMessage, type Logger } from "../log.js";
import type { ActivityDefinition } from "./definitions.js";
import type { FailureDetails } from "./history-events.js";

/** An activity to run: what an instance scheduled (its work item). */
export interface ActivityWork {
  readonly instanceId: string;
  readonly taskId: number;
  /** The instance's execution that scheduled it. */
  readonly generation: number;
  readonly name: string;
  readonly input?: unknown;
}

/** How an activity ended. */
export type ActivityOutcome = { readonly ok: true; readonly result: unknown } | { readonly ok: false; readonly failure: FailureDetails };

export interface ActivityWorkerOptions {
  readonly activities: ReadonlyMap<string, ActivityDefinition>;
  /** Most activities running at once (default 100); more wait in order. */
  readonly maxConcurrent: number;
  /** Largest result, as JSON (a larger one fails the task). */
  readonly maxResultBytes: number;
  /** Where outcomes go (the instance host records them in history). */
  readonly complete: (work: ActivityWork, outcome: ActivityOutcome) => void;
  readonly log: Logger;
}

/**
 * Runs activities in this process, at most `maxConcurrent` at a time, each to its end however long
 * it takes (an async activity never blocks the event loop's other work). An activity runs at least
 * once: after a crash, work items still in the store run again.
 */
export class ActivityWorker {
  private readonly waiting: ActivityWork[] = [];
  private waitingHead = 0;
  private running = 0;
  private stopped = false;

  constructor(private readonly options: ActivityWorkerOptions) {}

  /** Activities running now, and waiting for a slot. */
  get load(): { running: number; waiting: number } {
    return { running: this.running, waiting: this.waiting.length - this.waitingHead };
  }

  enqueue(work: ActivityWork): void {
    if (this.stopped) return;
    this.waiting.push(work);
    this.pump();
  }

  /** Starts no more activities (those running finish; their outcomes are dropped if the runtime is closed). */
  stop(): void {
    this.stopped = true;
    this.waiting.length = 0;
    this.waitingHead = 0;
  }

  private pump(): void {
    while (!this.stopped && this.running < this.options.maxConcurrent && this.waitingHead < this.waiting.length) {
      const work = this.waiting[this.waitingHead++]!;
      if (this.waitingHead > 1024 && this.waitingHead * 2 > this.waiting.length) {
        this.waiting.splice(0, this.waitingHead);
        this.waitingHead = 0;
      }
      this.running++;
      void this.run(work).finally(() => {
        this.running--;
        this.pump();
      });
    }
  }

  private async run(work: ActivityWork): Promise<void> {
    const outcome = await this.invoke(work);
    if (!this.stopped) this.options.complete(work, outcome);
  }

  private async invoke(work: ActivityWork): Promise<ActivityOutcome> {
    const definition = this.options.activities.get(work.name);
    if (definition === undefined) {
      return { ok: false, failure: { errorType: "unknown_activity", message: `no activity "${work.name}" in this app (it has: ${[...this.options.activities.keys()].join(", ") || "none"})`, taskName: work.name } };
    }
    try {
      const result = await definition.run(work.input, { activityName: work.name, instanceId: work.instanceId, attempt: 1 });
      const text = result === undefined ? undefined : JSON.stringify(result);
      if (text !== undefined && text.length > this.options.maxResultBytes) {
        return { ok: false, failure: { errorType: "payload_too_large", message: `activity "${work.name}" returned ${text.length} bytes of JSON; the limit is ${this.options.maxResultBytes}`, taskName: work.name } };
      }
      return { ok: true, result: text === undefined ? undefined : JSON.parse(text) };
    } catch (error) {
      this.options.log.warn("activity failed", { activity: work.name, instanceId: work.instanceId, taskId: work.taskId, error: errorMessage(error), stack: error instanceof Error ? error.stack : undefined });
      return { ok: false, failure: failureOf(error, work.name) };
    }
  }
}

/** What an activity's error says, as JSON (its own fields besides name, message and stack are its details). */
function failureOf(error: unknown, taskName: string): FailureDetails {
  if (!(error instanceof Error)) return { errorType: "Error", message: String(error), taskName };
  const own: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(error)) if (key !== "stack" && key !== "message" && key !== "name") own[key] = value;
  let details: unknown;
  try {
    details = Object.keys(own).length > 0 ? JSON.parse(JSON.stringify(own)) : undefined;
  } catch {
    details = undefined;
  }
  return details === undefined ? { errorType: error.name, message: error.message, taskName } : { errorType: error.name, message: error.message, taskName, details };
}
