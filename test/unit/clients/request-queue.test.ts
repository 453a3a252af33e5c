import { describe, expect, it } from "vitest";
import { ErrorCode, isEntityError } from "../../../protocol/entity-error.js";
import { RequestQueue } from "../../../clients/request-queue.js";

describe("RequestQueue", () => {
  it("keeps order and drains everything", () => {
    const queue = new RequestQueue<number>(3);
    queue.push(1);
    queue.push(2);
    expect(queue.size).toBe(2);
    expect(queue.drain()).toEqual([1, 2]);
    expect(queue.size).toBe(0);
  });

  it("refuses with queue_full past its capacity", () => {
    const queue = new RequestQueue<number>(2);
    queue.push(1);
    queue.push(2);
    let caught: unknown;
    try {
      queue.push(3);
    } catch (error) {
      caught = error;
    }
    expect(isEntityError(caught) && caught.code).toBe(ErrorCode.queue_full);
    expect(queue.drain()).toEqual([1, 2]);
    queue.push(3);
    expect(queue.size).toBe(1);
  });

  it("rejects a nonsensical capacity", () => {
    expect(() => new RequestQueue(-1)).toThrow(RangeError);
  });
});

describe("RequestQueue.unshift", () => {
  it("puts items back before the queued ones, in order, past the capacity if it must", () => {
    const queue = new RequestQueue<number>(3);
    queue.push(4);
    queue.push(5);
    expect(queue.shift()).toBe(4);
    queue.unshift([1, 2, 3]);
    expect(queue.size).toBe(4);
    expect(queue.drain()).toEqual([1, 2, 3, 5]);
  });
});
