/**
 * One round of the orchestration load: instances started at once, each watched until it finishes.
 * Keeps, per instance, when its `start` was sent, when the start was durable (its `result`) and when
 * the watch said it finished; checks every output against the expected one.
 */
import type { RawInstanceStatus } from "./raw-orchestration-connection.js";

const FINISHED = new Set(["Completed", "Failed", "Terminated"]);

interface Tracked {
  readonly sentAt: number;
  durableAt?: number;
  finishedAt?: number;
  completed?: boolean;
}

/** What went wrong: how often, and a few examples. */
export interface ProblemList {
  readonly count: number;
  readonly examples: readonly string[];
}

/** Collects problems: counts them all, keeps the first five. */
export class Problems implements ProblemList {
  count = 0;
  readonly examples: string[] = [];

  add(message: string): void {
    this.count++;
    if (this.examples.length < 5) this.examples.push(message);
  }
}

/** The instances of one round and what happened to them. */
export class OrchestrationRound {
  private readonly tracked = new Map<string, Tracked>();
  private unfinished = 0;
  private allFinished: () => void = () => {};
  /** Resolves once every instance of the round finished (or failed to start). */
  readonly finished: Promise<void>;
  completed = 0;
  firstSentAt = Number.POSITIVE_INFINITY;
  lastFinishedAt = 0;

  constructor(
    private readonly expectedOutput: string,
    private readonly wrong: Problems,
    private readonly failed: Problems,
  ) {
    this.finished = new Promise((resolve) => (this.allFinished = resolve));
  }

  /** The `start` of `instanceId` was sent at `at`. */
  sent(instanceId: string, at: number): void {
    this.tracked.set(instanceId, { sentAt: at });
    this.firstSentAt = Math.min(this.firstSentAt, at);
    this.unfinished++;
  }

  /** Its `start` was answered (the start is durable). */
  durable(instanceId: string, at: number): void {
    const tracked = this.tracked.get(instanceId);
    if (tracked && tracked.durableAt === undefined) tracked.durableAt = at;
  }

  /** A watched status arrived. */
  status(instanceId: string, status: RawInstanceStatus | null, at: number): void {
    const tracked = this.tracked.get(instanceId);
    if (!tracked || tracked.finishedAt !== undefined || status === null || !FINISHED.has(status.runtimeStatus)) return;
    if (status.runtimeStatus === "Completed") {
      this.completed++;
      tracked.completed = true;
      const output = JSON.stringify(status.output);
      if (output !== this.expectedOutput) this.wrong.add(`${instanceId} returned ${output.slice(0, 200)}, expected ${this.expectedOutput.slice(0, 200)}`);
    } else {
      const details = status.failureDetails;
      this.failed.add(`${instanceId} ended ${status.runtimeStatus}${details ? `: ${details.errorType}: ${details.message}` : ""}`);
    }
    this.finish(tracked, at);
  }

  /** A request about `instanceId` failed: the instance counts as failed. */
  error(instanceId: string, message: string, at: number): void {
    const tracked = this.tracked.get(instanceId);
    if (!tracked || tracked.finishedAt !== undefined) return;
    this.failed.add(`${instanceId}: ${message}`);
    this.finish(tracked, at);
  }

  /** Every instance not finished yet fails with `message` (a timeout, a closed socket). */
  abandon(message: string, at: number): void {
    for (const [instanceId, tracked] of this.tracked) if (tracked.finishedAt === undefined) this.error(instanceId, message, at);
  }

  /** Start-to-finish and start-to-durable times (ms) of the instances that completed. */
  latencies(): { completion: number[]; durableStart: number[] } {
    const completion: number[] = [];
    const durableStart: number[] = [];
    for (const tracked of this.tracked.values()) {
      if (tracked.completed && tracked.finishedAt !== undefined) completion.push(tracked.finishedAt - tracked.sentAt);
      if (tracked.durableAt !== undefined) durableStart.push(tracked.durableAt - tracked.sentAt);
    }
    return { completion, durableStart };
  }

  private finish(tracked: Tracked, at: number): void {
    tracked.finishedAt = at;
    this.lastFinishedAt = Math.max(this.lastFinishedAt, at);
    if (--this.unfinished === 0) this.allFinished();
  }
}
