import type { Page, PageCursor } from "./entity-store.js";

/**
 * What the store keeps for orchestration instances, kept opaque here (JSON values; the orchestration
 * layer gives them their types): per instance a record and its history, and per partition the
 * instances' durable timers and activity work items. All live in the instance id's partition.
 */

/** A durable timer: it fires at `fireAt` (epoch ms) for one instance's timer task. */
export interface TimerAddress {
  readonly fireAt: number;
  readonly instanceId: string;
  readonly timerId: number;
}

/** An activity scheduled by an instance and not yet completed (run again after a restart). */
export interface WorkItemAddress {
  readonly instanceId: string;
  readonly taskId: number;
}

/** The instance part of a write batch. */
export interface InstanceWrites {
  putInstance(instanceId: string, record: unknown): void;
  deleteInstance(instanceId: string): void;
  putHistoryEvent(instanceId: string, seq: number, event: unknown): void;
  deleteHistoryEvent(instanceId: string, seq: number): void;
  putTimer(timer: TimerAddress, value: unknown): void;
  deleteTimer(timer: TimerAddress): void;
  putWorkItem(item: WorkItemAddress, value: unknown): void;
  deleteWorkItem(item: WorkItemAddress): void;
}

/** The instance part of the store's reads. */
export interface InstanceReads {
  readInstance(instanceId: string): unknown;
  /** The history events from `fromSeq` on (all of them by default; at most `limit`), in order. */
  readHistory(instanceId: string, fromSeq?: number, limit?: number): unknown[];
  /** Up to `limit` instance records of a partition, after the page that `after` ended. */
  readInstances(partition: number, limit: number, after?: PageCursor): Page<[instanceId: string, record: unknown]>;
  /** Timers of a partition due at or before `untilMs`, earliest first, at most `limit`. */
  readDueTimers(partition: number, untilMs: number, limit: number): Array<[TimerAddress, unknown]>;
  /** When the partition's earliest timer is due, or undefined when it has none. */
  nextTimerDue(partition: number): number | undefined;
  /** How many timers wait in a partition (a count of keys: it takes time in proportion to them). */
  countTimers(partition: number): number;
  /** Every activity work item waiting in a partition. */
  readWorkItems(partition: number): Iterable<[WorkItemAddress, unknown]>;
}
