import type { ListFrame } from "../../protocol/index.js";
import { statusOf, type InstanceRecord, type InstanceStatus } from "../orchestration/index.js";
import type { OrchestrationHost } from "../orchestration/index.js";
import type { InstanceReads, PageCursor } from "../storage/index.js";

/** Records read per store page while filtering. */
const SCAN_PAGE = 500;
const MIN_SCAN = 5_000;
/** About the most bytes of statuses one page carries (at least one status). */
const MAX_PAGE_BYTES = 1024 * 1024;

/** Where a listing stopped: the partition and the store's cursor in it, opaque to clients. */
interface Continuation {
  readonly partition: number;
  readonly after?: unknown;
}

/** Which instances a listing shows. */
export type InstanceFilter = Pick<ListFrame, "runtimeStatus" | "name" | "createdFrom" | "createdTo" | "instanceIdPrefix">;

/** How far one partition's part of a page may go: matches still wanted, records it may still read, bytes of statuses it may still add. */
export interface ScanLimits {
  readonly want: number;
  readonly budget: number;
  readonly bytes: number;
}

/** One partition's part of a page. */
export interface PartitionScan {
  readonly instances: InstanceStatus[];
  /** Records read. */
  readonly scanned: number;
  /** Bytes of the statuses found (as JSON). */
  readonly bytes: number;
  /** Set when a limit ended the scan: the last id read, and whether the partition holds records after it. */
  readonly stoppedAt?: { readonly id: string; readonly rest: boolean };
}

/** One step of a page: the partition to scan, after which instance id, and within what limits. */
export interface ScanStep {
  readonly partition: number;
  readonly afterId?: string;
  readonly limits: ScanLimits;
}

/**
 * A page of instances matching the filter, in storage order (partition by partition), with the
 * continuation to pass for the next page (absent on the last one). A page ends at `pageSize`
 * instances, at about 1 MiB of statuses, or after a bounded scan. Reads what is committed.
 */
export function listInstances(host: OrchestrationHost, frame: ListFrame): { instances: InstanceStatus[]; continuation?: string } {
  const store = host.store;
  const matches = instanceMatcher(frame);
  const steps = pageSteps(frame, store.partitionCount);
  let step = steps.next();
  while (!step.done) step = steps.next(scanPartition(store, step.value.partition, matches, step.value.afterId, step.value.limits));
  return step.value;
}

/**
 * The steps of one page, partition by partition (each given the scan of the one before): the same
 * whether a partition is read here or by its owner in a cluster. Throws on a continuation this server
 * did not give.
 */
export function* pageSteps(frame: ListFrame, partitionCount: number): Generator<ScanStep, { instances: InstanceStatus[]; continuation?: string }, PartitionScan> {
  const pageSize = frame.pageSize ?? 100;
  const instances: InstanceStatus[] = [];
  /** Records one request may read: a filter that matches few returns a short page and a continuation rather than scanning everything. */
  let budget = Math.max(MIN_SCAN, 10 * pageSize);
  /** The page's size so far: a page of large inputs and outputs ends early, with a continuation. */
  let bytes = 0;
  let at = frame.continuation === undefined ? { partition: 0 } : decode(frame.continuation, partitionCount);
  while (at.partition < partitionCount) {
    const afterId = at.after === undefined ? undefined : (at.after as [number, "i", string])[2];
    const scan: PartitionScan = yield { partition: at.partition, ...(afterId === undefined ? {} : { afterId }), limits: { want: pageSize - instances.length, budget, bytes: MAX_PAGE_BYTES - bytes } };
    instances.push(...scan.instances);
    budget -= scan.scanned;
    bytes += scan.bytes;
    if (scan.stoppedAt !== undefined) {
      const next: Continuation = scan.stoppedAt.rest ? { partition: at.partition, after: cursorAfter(at.partition, scan.stoppedAt.id) } : { partition: at.partition + 1 };
      return next.partition < partitionCount ? { instances, continuation: encode(next) } : { instances };
    }
    at = { partition: at.partition + 1 };
  }
  return { instances };
}

/** The filter as a test of one record. */
export function instanceMatcher(filter: InstanceFilter): (id: string, record: InstanceRecord) => boolean {
  const statuses = filter.runtimeStatus === undefined ? undefined : new Set<string>(filter.runtimeStatus);
  return (id, record) =>
    (statuses === undefined || statuses.has(record.status)) &&
    (filter.name === undefined || record.name === filter.name) &&
    (filter.createdFrom === undefined || record.createdTime >= filter.createdFrom) &&
    (filter.createdTo === undefined || record.createdTime <= filter.createdTo) &&
    (filter.instanceIdPrefix === undefined || id.startsWith(filter.instanceIdPrefix));
}

/**
 * One partition's part of a page: its records after `afterId`, in key order, until `limits.want`
 * match, `limits.budget` records are read, or the statuses found reach `limits.bytes`.
 */
export function scanPartition(store: Pick<InstanceReads, "readInstances">, partition: number, matches: (id: string, record: InstanceRecord) => boolean, afterId: string | undefined, limits: ScanLimits): PartitionScan {
  const instances: InstanceStatus[] = [];
  let scanned = 0;
  let bytes = 0;
  let cursor = afterId === undefined ? undefined : (cursorAfter(partition, afterId) as PageCursor);
  for (;;) {
    const page = store.readInstances(partition, SCAN_PAGE, cursor);
    for (let i = 0; i < page.entries.length; i++) {
      const [id, record] = page.entries[i]!;
      scanned++;
      if (matches(id, record as InstanceRecord)) {
        const status = statusOf(id, record as InstanceRecord);
        instances.push(status);
        bytes += JSON.stringify(status).length;
      }
      if (instances.length < limits.want && scanned < limits.budget && bytes < limits.bytes) continue;
      const rest = i + 1 < page.entries.length || page.next !== undefined;
      return { instances, scanned, bytes, stoppedAt: { id, rest } };
    }
    if (page.next === undefined) return { instances, scanned, bytes };
    cursor = page.next;
  }
}

/** The store cursor just past an instance's record (its key). */
function cursorAfter(partition: number, instanceId: string): unknown {
  return [partition, "i", instanceId];
}

function encode(continuation: Continuation): string {
  return Buffer.from(JSON.stringify(continuation)).toString("base64url");
}

function decode(text: string, partitions: number): Continuation {
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(text, "base64url").toString());
  } catch {
    throw new Error("continuation is not one this server gave");
  }
  const { partition, after } = (value ?? {}) as { partition?: unknown; after?: unknown };
  const validAfter = after === undefined || (Array.isArray(after) && after.length === 3 && after[0] === partition && after[1] === "i" && typeof after[2] === "string");
  if (typeof partition !== "number" || !Number.isInteger(partition) || partition < 0 || partition > partitions || !validAfter) {
    throw new Error("continuation is not one this server gave");
  }
  return { partition, after };
}
