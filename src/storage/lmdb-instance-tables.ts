import type { Database, Key } from "lmdb";
import type { Page, PageCursor } from "./entity-store.js";
import type { TimerAddress, WorkItemAddress } from "./instance-records.js";

/**
 * The LMDB key layout of orchestration instances, in the instance id's partition: `[p, "i", id]`
 * the instance record, `[p, "h", id, seq]` its history, `[p, "t", fireAt, id, timerId]` its durable
 * timers (so a partition's timers sort by due time), `[p, "w", id, taskId]` its activity work items.
 * Values are JSON strings.
 */
export type InstanceKey =
  | [partition: number, kind: "i", instanceId: string]
  | [partition: number, kind: "h", instanceId: string, seq: number]
  | [partition: number, kind: "t", fireAt: number, instanceId: string, timerId: number]
  | [partition: number, kind: "w", instanceId: string, taskId: number];

type Db = Database<string, Key>;
/** A stored key, read back as the array it was written as. */
type Parts = readonly unknown[];

export const instanceKey = (partition: number, instanceId: string): InstanceKey => [partition, "i", instanceId];
export const historyKey = (partition: number, instanceId: string, seq: number): InstanceKey => [partition, "h", instanceId, seq];
export const timerKey = (partition: number, timer: TimerAddress): InstanceKey => [partition, "t", timer.fireAt, timer.instanceId, timer.timerId];
export const workItemKey = (partition: number, item: WorkItemAddress): InstanceKey => [partition, "w", item.instanceId, item.taskId];

/** Reads of the instance tables, for the store. */
export class LmdbInstanceTables {
  constructor(
    private readonly db: Db,
    private readonly partitionOf: (id: string) => number,
  ) {}

  readInstance(instanceId: string): unknown {
    const value = this.db.get(instanceKey(this.partitionOf(instanceId), instanceId));
    return value === undefined ? undefined : JSON.parse(value);
  }

  readHistory(instanceId: string, fromSeq = 0, limit?: number): unknown[] {
    const partition = this.partitionOf(instanceId);
    const events: unknown[] = [];
    const range = { start: historyKey(partition, instanceId, fromSeq), end: historyKey(partition, instanceId, Number.MAX_SAFE_INTEGER), ...(limit === undefined ? {} : { limit }) };
    for (const { value } of this.db.getRange(range)) {
      events.push(JSON.parse(value));
    }
    return events;
  }

  readInstances(partition: number, limit: number, after?: PageCursor): Page<[string, unknown]> {
    const entries: Array<[string, unknown]> = [];
    let last: Key | undefined;
    const start = after === undefined ? [partition, "i"] : (after as unknown as Key);
    for (const { key, value } of this.db.getRange({ start, exclusiveStart: after !== undefined, end: [partition, "j"], limit })) {
      entries.push([(key as Parts)[2] as string, JSON.parse(value)]);
      last = key;
    }
    return { entries, next: entries.length < limit ? undefined : (last as unknown as PageCursor) };
  }

  readDueTimers(partition: number, untilMs: number, limit: number): Array<[TimerAddress, unknown]> {
    const timers: Array<[TimerAddress, unknown]> = [];
    for (const { key, value } of this.db.getRange({ start: [partition, "t"], end: [partition, "t", Math.floor(untilMs) + 1], limit })) {
      const [, , fireAt, instanceId, timerId] = key as Parts;
      timers.push([{ fireAt: fireAt as number, instanceId: instanceId as string, timerId: timerId as number }, JSON.parse(value)]);
    }
    return timers;
  }

  nextTimerDue(partition: number): number | undefined {
    for (const key of this.db.getKeys({ start: [partition, "t"], end: [partition, "u"], limit: 1 })) return (key as Parts)[2] as number;
    return undefined;
  }

  countTimers(partition: number): number {
    return this.db.getCount({ start: [partition, "t"], end: [partition, "u"] });
  }

  *readWorkItems(partition: number): Iterable<[WorkItemAddress, unknown]> {
    for (const { key, value } of this.db.getRange({ start: [partition, "w"], end: [partition, "x"] })) {
      const [, , instanceId, taskId] = key as Parts;
      yield [{ instanceId: instanceId as string, taskId: taskId as number }, JSON.parse(value)];
    }
  }
}
