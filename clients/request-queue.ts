import { EntityError, ErrorCode } from "../protocol/entity-error.js";

/**
 * A FIFO queue with a hard capacity: requests wait here while the client is disconnected, or while
 * the server's in-flight window (`welcome.maxInflightRequests`) is full.
 */
export class RequestQueue<T> {
  private items: T[] = [];
  private head = 0;

  constructor(readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 0) throw new RangeError(`queue capacity must be a non-negative integer, got ${capacity}`);
  }

  get size(): number {
    return this.items.length - this.head;
  }

  /** Adds an item; throws an EntityError `queue_full` when the queue already holds `capacity` items. */
  push(item: T): void {
    if (this.size >= this.capacity) {
      throw new EntityError(
        ErrorCode.queue_full,
        `the client already holds ${this.capacity} requests waiting to be sent (maxQueuedRequests): it is disconnected, or the server's in-flight window is full; wait for answers before sending more`,
      );
    }
    this.items.push(item);
  }

  /** Puts items back at the front, in the order given (they were sent before the queued ones). */
  unshift(items: readonly T[]): void {
    this.items = [...items, ...this.items.slice(this.head)];
    this.head = 0;
  }

  /** Removes and returns the oldest item. */
  shift(): T | undefined {
    if (this.head >= this.items.length) return undefined;
    const item = this.items[this.head++];
    if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    return item;
  }

  /** Removes and returns every item, oldest first. */
  drain(): T[] {
    const items = this.items.slice(this.head);
    this.items = [];
    this.head = 0;
    return items;
  }
}
