import type { ListFrame } from "../../protocol/index.js";
import { statusOf, type InstanceRecord, type InstanceStatus } from "../orchestration/index.js";
import type { OrchestrationHost } from "../orchestration/index.js";
import type { PageCursor } from "../storage/index.js";

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

/**
 * A page of instances matching the filter, in storage order (partition by partition), with the
 * continuation to pass for the next page (absent on the last one). A page ends at `pageSize`
 * instances, at about 1 MiB of statuses, or after a bounded scan. Reads what is committed.
 */
export function listInstances(host: OrchestrationHost, frame: ListFrame): { instances: InstanceStatus[]; continuation?: string } {
  const store = host.store;
  const pageSize = frame.pageSize ?? 100;
  const statuses = frame.runtimeStatus === undefined ? undefined : new Set<string>(frame.runtimeStatus);
  const matches = (id: string, record: InstanceRecord) =>
    (statuses === undefined || statuses.has(record.status)) &&
    (frame.name === undefined || record.name === frame.name) &&
    (frame.createdFrom === undefined || record.createdTime >= frame.createdFrom) &&
    (frame.createdTo === undefined || record.createdTime <= frame.createdTo) &&
    (frame.instanceIdPrefix === undefined || id.startsWith(frame.instanceIdPrefix));
  const instances: InstanceStatus[] = [];
  /** Records one request may read: a filter that matches few returns a short page and a continuation rather than scanning everything. */
  let budget = Math.max(MIN_SCAN, 10 * pageSize);
  /** The page's size so far: a page of large inputs and outputs ends early, with a continuation. */
  let bytes = 0;
  let at = frame.continuation === undefined ? { partition: 0 } : decode(frame.continuation, store.partitionCount);
  while (at.partition < store.partitionCount) {
    const page = store.readInstances(at.partition, SCAN_PAGE, at.after as PageCursor | undefined);
    for (let i = 0; i < page.entries.length; i++) {
      const [id, record] = page.entries[i]!;
      budget--;
      if (matches(id, record as InstanceRecord)) {
        const status = statusOf(id, record as InstanceRecord);
        instances.push(status);
        bytes += JSON.stringify(status).length;
      }
      if (instances.length < pageSize && budget > 0 && bytes < MAX_PAGE_BYTES) continue;
      const rest = i + 1 < page.entries.length || page.next !== undefined;
      const next: Continuation = rest ? { partition: at.partition, after: cursorAfter(at.partition, id) } : { partition: at.partition + 1 };
      return next.partition < store.partitionCount ? { instances, continuation: encode(next) } : { instances };
    }
    at = page.next === undefined ? { partition: at.partition + 1 } : { partition: at.partition, after: page.next };
  }
  return { instances };
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
