import { EntityError, ErrorCode } from "../protocol/entity-error.js";

/** A FIFO queue with a hard capacity: requests issued while the client is disconnected wait here. */
export class RequestQueue<T> {
  private items: T[] = [];

  constructor(readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 0) throw new RangeError(`queue capacity must be a non-negative integer, got ${capacity}`);
  }

  get size(): number {
    return this.items.length;
  }

  /** Adds an item; throws an EntityError `queue_full` when the queue already holds `capacity` items. */
  push(item: T): void {
    if (this.items.length >= this.capacity) {
      throw new EntityError(
        ErrorCode.queue_full,
        `the client is disconnected and already holds ${this.capacity} queued requests (maxQueuedRequests); retry once it reconnects`,
      );
    }
    this.items.push(item);
  }

  /** Removes and returns every item, oldest first. */
  drain(): T[] {
    const items = this.items;
    this.items = [];
    return items;
  }
}
