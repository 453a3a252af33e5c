import { CompletableTask } from "./completable-task.js";
import { copyForCode } from "./json-payloads.js";

interface Buffered {
  readonly seq: number;
  readonly name: string;
  readonly input: unknown;
}

/**
 * External events of one execution. An event goes to the oldest waiter for its name; with none, it
 * is kept (in order) until the code waits for that name. Names match case-insensitively, as in
 * Durable Functions.
 */
export class ExternalEvents {
  readonly #buffered = new Map<string, Buffered[]>();
  readonly #waiters = new Map<string, CompletableTask<unknown>[]>();
  #seq = 0;

  /** An event arrived: the oldest waiter for its name gets it, or it is kept. */
  raise(name: string, input: unknown): void {
    const key = name.toLowerCase();
    const waiters = this.#waiters.get(key);
    const waiter = waiters?.shift();
    if (waiters?.length === 0) this.#waiters.delete(key);
    if (waiter) waiter.complete(copyForCode(input));
    else this.keep(name, input);
  }

  /** Keeps an event without offering it to waiters (after the execution continued as new). */
  keep(name: string, input: unknown): void {
    const key = name.toLowerCase();
    let queue = this.#buffered.get(key);
    if (!queue) this.#buffered.set(key, (queue = []));
    queue.push({ seq: this.#seq++, name, input });
  }

  /** A task for the next event named `name`: the oldest kept one, or the next to arrive. */
  wait(name: string): CompletableTask<unknown> {
    const key = name.toLowerCase();
    const task = new CompletableTask<unknown>();
    const queue = this.#buffered.get(key);
    const kept = queue?.shift();
    if (queue?.length === 0) this.#buffered.delete(key);
    if (kept) {
      task.complete(copyForCode(kept.input));
    } else {
      let waiters = this.#waiters.get(key);
      if (!waiters) this.#waiters.set(key, (waiters = []));
      waiters.push(task);
    }
    return task;
  }

  /** The kept events nobody waited for, in the order they arrived. */
  unconsumed(): Array<{ name: string; input?: unknown }> {
    const all = [...this.#buffered.values()].flat().sort((a, b) => a.seq - b.seq);
    return all.map(({ name, input }) => (input === undefined ? { name } : { name, input }));
  }
}
