import type { Task } from "./task.js";

const TASK_BRAND = Symbol.for("durable-entities.task");

const PENDING = 0;
const COMPLETED = 1;
const FAILED = 2;

/**
 * The one task implementation everything else builds on: pending, then completed with a result or
 * failed with an error, once. Listeners (composite tasks, retries) hear about the settlement
 * synchronously; the executor, not a listener, resumes the orchestrator, so nothing here re-enters it.
 */
export class CompletableTask<T> implements Task<T> {
  readonly [TASK_BRAND] = true;
  #state: typeof PENDING | typeof COMPLETED | typeof FAILED = PENDING;
  #result: T | undefined;
  #error: unknown;
  #listeners: Array<() => void> | undefined;

  get isCompleted(): boolean {
    return this.#state !== PENDING;
  }

  get isFaulted(): boolean {
    return this.#state === FAILED;
  }

  get result(): T | undefined {
    return this.#result;
  }

  /** The error a failed task throws at its `yield` (undefined unless it failed). */
  get error(): unknown {
    return this.#error;
  }

  complete(value: T): void {
    if (this.#state !== PENDING) return;
    this.#state = COMPLETED;
    this.#result = value;
    this.#notify();
  }

  fail(error: unknown): void {
    if (this.#state !== PENDING) return;
    this.#state = FAILED;
    this.#error = error;
    this.#notify();
  }

  /** Calls `listener` once when the task settles (never if it already has: check first). */
  onSettled(listener: () => void): void {
    (this.#listeners ??= []).push(listener);
  }

  *[Symbol.iterator](): Generator<Task<T>, T, unknown> {
    return (yield this) as T;
  }

  #notify(): void {
    const listeners = this.#listeners;
    this.#listeners = undefined;
    if (listeners) for (const listener of listeners) listener();
  }
}

/** True for a task made by this package (any copy of it): what orchestrator code may yield. */
export function isTask(value: unknown): value is CompletableTask<unknown> {
  return typeof value === "object" && value !== null && (value as { [TASK_BRAND]?: unknown })[TASK_BRAND] === true;
}

/** Names what was yielded or passed instead of a task, for error messages. */
export function describeNonTask(value: unknown): string {
  if (value === null) return "null";
  if (value === undefined) return "undefined";
  if (typeof value === "object" || typeof value === "function") {
    if (typeof (value as { then?: unknown }).then === "function") return "a Promise";
    if (Array.isArray(value)) return "an array";
    if (typeof value === "function") return "a function";
    const name = Object.getPrototypeOf(value)?.constructor?.name;
    return name && name !== "Object" ? `a ${name}` : "an object";
  }
  return `a ${typeof value}`;
}
