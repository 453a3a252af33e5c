import type { Logger } from "../log.js";
import type { ActivityDefinition } from "./definitions.js";
import type { FailureDetails } from "./history-events.js";
import type { OrchestrationMeter } from "../observability/meters.js";

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
  /** How long an activity may run before its task fails with `timeout` (default: no limit). */
  readonly maxDurationMs?: number;
  /** Where outcomes go (the instance host records them in history). */
  readonly complete: (work: ActivityWork, outcome: ActivityOutcome) => void;
  readonly log: Logger;
  /** Where each run's outcome and duration go (default: nowhere). */
  readonly meter?: Pick<OrchestrationMeter, "activityRan">;
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
  /** The work waiting or running, by key: what a reset need not hand out again. */
  private readonly inHand = new Set<string>();

  constructor(private readonly options: ActivityWorkerOptions) {}

  /** Activities running now, and waiting for a slot. */
  get load(): { running: number; waiting: number } {
    return { running: this.running, waiting: this.waiting.length - this.waitingHead };
  }

  /** True when this work is waiting or running here. */
  has(work: ActivityWork): boolean {
    return this.inHand.has(workKey(work));
  }

  enqueue(work: ActivityWork): void {
    if (this.stopped) return;
    this.inHand.add(workKey(work));
    this.waiting.push(work);
    this.pump();
  }

  /** Starts no more activities (those running finish; their outcomes are dropped if the runtime is closed). */
  stop(): void {
    this.stopped = true;
    for (const work of this.waiting.slice(this.waitingHead)) this.inHand.delete(workKey(work));
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
        this.inHand.delete(workKey(work));
        this.running--;
        this.pump();
      });
    }
  }

  private async run(work: ActivityWork): Promise<void> {
    const started = performance.now();
    let outcome: ActivityOutcome;
    try {
      outcome = await this.invoke(work);
    } catch (error) {
      // Only a bug gets here (invoke describes every failure); the task fails rather than the server.
      this.options.log.error("running an activity failed", { activity: work.name, instanceId: work.instanceId, error: describeThrown(error) });
      outcome = { ok: false, failure: { errorType: "Error", message: "the activity failed in a way that could not be described", taskName: work.name } };
    }
    this.options.meter?.activityRan(work.name, outcome.ok, (performance.now() - started) / 1000);
    if (!this.stopped) this.options.complete(work, outcome);
  }

  private async invoke(work: ActivityWork): Promise<ActivityOutcome> {
    const definition = this.options.activities.get(work.name);
    if (definition === undefined) {
      return { ok: false, failure: { errorType: "unknown_activity", message: `no activity "${work.name}" in this app (it has: ${[...this.options.activities.keys()].join(", ") || "none"})`, taskName: work.name } };
    }
    try {
      const result = await this.withTimeout(work, definition.run(work.input, { activityName: work.name, instanceId: work.instanceId, attempt: 1 }));
      const text = result === undefined ? undefined : JSON.stringify(result);
      if (text !== undefined && text.length > this.options.maxResultBytes) {
        return { ok: false, failure: { errorType: "payload_too_large", message: `activity "${work.name}" returned ${text.length} bytes of JSON; the limit is ${this.options.maxResultBytes}`, taskName: work.name } };
      }
      return { ok: true, result: text === undefined ? undefined : JSON.parse(text) };
    } catch (error) {
      const failure = failureOf(error, work.name);
      this.options.log.warn("activity failed", { activity: work.name, instanceId: work.instanceId, taskId: work.taskId, error: failure.message, stack: stackOf(error) });
      return { ok: false, failure };
    }
  }

  /** The activity's result, or a `timeout` failure once it ran longer than `maxDurationMs` (its slot is freed; it runs on, unheard). */
  private withTimeout<T>(work: ActivityWork, running: T | Promise<T>): Promise<T> {
    const maxMs = this.options.maxDurationMs;
    if (maxMs === undefined || !(running instanceof Promise)) return Promise.resolve(running);
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new ActivityTimeout(`activity "${work.name}" did not finish within ${maxMs} ms`)), maxMs);
    });
    return Promise.race([running, timeout]).finally(() => clearTimeout(timer));
  }
}

class ActivityTimeout extends Error {
  override readonly name = "timeout";
}

/**
 * What an activity's error says, as JSON (its own fields besides name, message and stack are its
 * details). Whatever was thrown (null-prototype objects, throwing getters, proxies), describing it
 * never throws.
 */
function failureOf(error: unknown, taskName: string): FailureDetails {
  try {
    if (!(error instanceof Error)) return { errorType: "Error", message: describeThrown(error), taskName };
    const own: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(error)) if (key !== "stack" && key !== "message" && key !== "name") own[key] = value;
    let details: unknown;
    try {
      details = Object.keys(own).length > 0 ? JSON.parse(JSON.stringify(own)) : undefined;
    } catch {
      details = undefined;
    }
    const failure: FailureDetails = { errorType: String(error.name), message: String(error.message), taskName };
    return details === undefined ? failure : { ...failure, details };
  } catch {
    return { errorType: "Error", message: "the activity threw a value that cannot be described", taskName };
  }
}

/** A thrown value as text, never throwing itself. */
function describeThrown(value: unknown): string {
  try {
    return value instanceof Error ? String(value.message) : String(value);
  } catch {
    try {
      return Object.prototype.toString.call(value);
    } catch {
      return "a value that cannot be described";
    }
  }
}

function stackOf(error: unknown): string | undefined {
  try {
    return error instanceof Error ? error.stack : undefined;
  } catch {
    return undefined;
  }
}

function workKey(work: ActivityWork): string {
  return `${work.instanceId}\n${work.generation}\n${work.taskId}`;
}
