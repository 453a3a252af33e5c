import { WhenAllTask, WhenAnyTask } from "./composite-tasks.js";
import type { TaskCombinators } from "./orchestration-context.js";

/**
 * Work the orchestrator waits for: what `ctx.callActivity`, `ctx.createTimer`, … return. `yield task`
 * gives its result (or throws its error at the `yield`); `yield* task` gives the same, typed as `T`.
 */
export interface Task<T = unknown> {
  /** True once the task completed or failed (completion is not success: see `isFaulted`). */
  readonly isCompleted: boolean;
  /** True when the task failed. */
  readonly isFaulted: boolean;
  /** The result once completed successfully; undefined before, and after a failure. */
  readonly result: T | undefined;
  /** `const x = yield* task`: yields the task and returns its result, typed. */
  [Symbol.iterator](): Generator<Task<T>, T, unknown>;
}

/** A durable timer: completes (with no result) at `fireAt`. */
export interface TimerTask extends Task<void> {
  readonly fireAt: Date;
  /** True once `cancel()` was called before the timer fired; a cancelled timer never completes. */
  readonly isCancelled: boolean;
  /** Tells the host the timer is no longer needed (e.g. the other side of a Task.any won). Does nothing once it fired. */
  cancel(): void;
}

/** The result type of a task. */
export type ResultOf<K> = K extends Task<infer T> ? T : never;

/** `Task.all` and `Task.any`, as in Durable Functions (also `ctx.Task`). */
export const Task: TaskCombinators = Object.freeze({
  all: (tasks) => new WhenAllTask(tasks),
  any: (tasks) => new WhenAnyTask(tasks),
} as TaskCombinators);
