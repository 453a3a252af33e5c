import { CompletableTask, describeNonTask, isTask } from "./completable-task.js";
import type { Task } from "./task.js";

/** Completes with every child's result, in order, once all complete; fails with the first failure. */
export class WhenAllTask<T> extends CompletableTask<T[]> {
  readonly #results: T[];
  #remaining: number;

  constructor(children: ReadonlyArray<Task<T>>) {
    super();
    const tasks = checkTasks("Task.all", children);
    this.#results = new Array<T>(tasks.length);
    this.#remaining = tasks.length;
    tasks.forEach((child, index) => {
      if (child.isCompleted) this.#settled(child, index);
      else child.onSettled(() => this.#settled(child, index));
    });
    if (tasks.length === 0) this.complete(this.#results);
  }

  #settled(child: CompletableTask<T>, index: number): void {
    if (this.isCompleted) return;
    if (child.isFaulted) {
      this.fail(child.error);
      return;
    }
    this.#results[index] = child.result as T;
    this.#remaining -= 1;
    if (this.#remaining === 0) this.complete(this.#results);
  }
}

/**
 * Completes with the first child to complete (the task itself, completed or failed), as Durable
 * Functions' Task.any does; it never fails. Compare the winner with your tasks: `if (winner === timer)`.
 */
export class WhenAnyTask<T> extends CompletableTask<Task<T>> {
  constructor(children: ReadonlyArray<Task<T>>) {
    super();
    const tasks = checkTasks("Task.any", children);
    if (tasks.length === 0) throw new TypeError("Task.any needs at least one task");
    const done = tasks.find((child) => child.isCompleted);
    if (done) {
      this.complete(done);
      return;
    }
    for (const child of tasks) child.onSettled(() => this.complete(child));
  }
}

function checkTasks<T>(what: string, children: ReadonlyArray<Task<T>>): CompletableTask<T>[] {
  if (!Array.isArray(children)) throw new TypeError(`${what} takes an array of tasks; got ${describeNonTask(children)}`);
  children.forEach((child, index) => {
    if (!isTask(child)) {
      throw new TypeError(`${what} takes tasks from ctx (callActivity, createTimer, …); element ${index} is ${describeNonTask(child)}`);
    }
  });
  return children as unknown as CompletableTask<T>[];
}
