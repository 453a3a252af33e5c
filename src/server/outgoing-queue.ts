import type { ErrorFrame, ServerFrame } from "../../protocol/index.js";

/** A live-state delivery: decides at send time what to send (the subscriber may have moved on) and sends it. */
export type LiveDelivery = () => void;

/** Answers released together: acks gathered in one frame, then the other frames in release order. */
export interface AnswerGroup {
  readonly acks: number[];
  readonly frames: ServerFrame[];
  /** Errors with ids in this group, by code and message, so that equal ones become one frame with `ids`. */
  errors?: Map<string, ErrorFrame>;
}

export type OutgoingItem = AnswerGroup | LiveDelivery | string | Uint8Array;

/**
 * What one connection has to send, in the order it was released: answers, live updates and
 * snapshots. Keeping them in one queue is what stops an answer released after an update from
 * overtaking it on the wire while live-state fan-outs are spread over several event-loop turns.
 */
export class OutgoingQueue {
  private items: OutgoingItem[] = [];
  private encoded = 0;

  /** Items waiting (a group of answers counts once, though it may leave as several messages). */
  get size(): number {
    return this.items.length;
  }

  ack(id: number): void {
    this.group().acks.push(id);
  }

  frame(frame: ServerFrame): void {
    this.group().frames.push(frame);
  }

  /**
   * An error answer. Equal errors (same code and message) released together leave as one frame
   * listing their ids, so a batch of requests failing alike costs one frame, not one each.
   */
  error(frame: ErrorFrame): void {
    const group = this.group();
    if (frame.id === undefined) return void group.frames.push(frame);
    const key = `${frame.code}\n${frame.message}`;
    const same = (group.errors ??= new Map()).get(key);
    if (same === undefined) {
      group.errors.set(key, frame);
      group.frames.push(frame);
      return;
    }
    if (same.ids === undefined) {
      (same as { ids?: number[] }).ids = [same.id!, frame.id];
      delete (same as { id?: number }).id;
    } else {
      same.ids.push(frame.id);
    }
  }

  /** An already-encoded message, or a live delivery. */
  push(item: LiveDelivery | string | Uint8Array): void {
    if (typeof item !== "function") this.encoded += item.length;
    this.items.push(item);
  }

  /** Bytes of the encoded messages waiting (answers are counted once encoded, when they leave). */
  get encodedBytes(): number {
    return this.encoded;
  }

  /** The next item, left in place. */
  peek(): OutgoingItem | undefined {
    return this.items[0];
  }

  /** Takes the next item (items pushed meanwhile come after it), or undefined when empty. */
  shift(): OutgoingItem | undefined {
    const item = this.items.shift();
    if (item !== undefined && typeof item !== "function" && !isAnswerGroup(item)) this.encoded -= item.length;
    return item;
  }

  clear(): void {
    this.items = [];
    this.encoded = 0;
  }

  private group(): AnswerGroup {
    const last = this.items[this.items.length - 1];
    if (last !== undefined && typeof last === "object" && "acks" in last) return last;
    const group: AnswerGroup = { acks: [], frames: [] };
    this.items.push(group);
    return group;
  }
}

export function isAnswerGroup(item: OutgoingItem): item is AnswerGroup {
  return typeof item === "object" && "acks" in item;
}
