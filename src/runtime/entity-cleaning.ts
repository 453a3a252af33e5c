import { EntityError } from "../../protocol/index.js";
import type { EntityRecord } from "../storage/index.js";
import { CLEAN_OP, type CleanOutcome, type Maintenance } from "./entity-maintenance.js";
import type { EntityRuntime } from "./entity-runtime.js";
import type { OperationRequest, Outcome } from "./operation-request.js";

/** What `clean` does, and where. */
export interface CleanOptions {
  /** Only this entity type (default: every type the app hosts). */
  readonly entityType?: string;
  /** Remove the records of entities that have no state, no lock and nothing waiting (default true). */
  readonly removeEmpty?: boolean;
  /** Free locks held by orchestration executions that no longer run (default true). */
  readonly releaseOrphanedLocks?: boolean;
  /** Entities live state watches keep their record (see entity-maintenance.ts); default: none is watched. */
  readonly isWatched?: (entityId: string) => boolean;
  /** Only the entities of these partitions (cluster mode: each partition's owner cleans its own); default: every partition the store holds. */
  readonly partitions?: readonly number[];
}

/** What `clean` did. */
export interface CleanReport {
  /** Empty entities whose records were removed. */
  readonly removedEmpty: number;
  /** Locks freed because their holder no longer runs. */
  readonly locksFreed: number;
  /** The first ids removed and freed (at most MAX_REPORTED_IDS of each, in id order per type). */
  readonly removed: string[];
  readonly unlocked: string[];
}

/** How many ids of each kind a report lists (the counts are complete). */
export const MAX_REPORTED_IDS = 100;
/** Candidates read and cleaned at a time; the event loop runs between pages. */
const PAGE_SIZE = 1000;

/**
 * Cleans entity storage: finds, page by page, the committed records that have no state or hold a
 * lock, and sends each of those entities a `clean` through its mailbox, so that each is decided in
 * its own turn on what the runtime holds in memory (a record read here may be stale). Resolves once
 * every clean is durable. Rejects with the runtime's error if it stops meanwhile.
 */
export async function cleanEntities(runtime: EntityRuntime, options: CleanOptions = {}): Promise<CleanReport> {
  const removeEmpty = options.removeEmpty ?? true;
  const releaseOrphanedLocks = options.releaseOrphanedLocks ?? true;
  const report = { removedEmpty: 0, locksFreed: 0, removed: [] as string[], unlocked: [] as string[] };
  if (!removeEmpty && !releaseOrphanedLocks) return report;
  const problem = options.entityType === undefined ? undefined : runtime.registry.check(`${options.entityType}/_`);
  if (problem) throw problem; // an unknown type: its entities cannot be loaded to be cleaned
  const maintenance: Maintenance = { kind: "clean", removeEmpty, releaseOrphanedLocks, isWatched: options.isWatched ?? (() => false) };
  const where = (_id: string, record: EntityRecord) => (removeEmpty && record.state === undefined) || (releaseOrphanedLocks && record.lock !== undefined);
  const store = runtime.pipeline.store;
  for (const type of options.entityType === undefined ? runtime.registry.names : [options.entityType]) {
    let after: string | undefined;
    do {
      const page = store.listEntities({ type, includeDeleted: true, pageSize: PAGE_SIZE, where, ...(after === undefined ? {} : { after }), ...(options.partitions === undefined ? {} : { partitions: options.partitions }) });
      const outcomes = await Promise.all(page.entities.map(({ id }) => submitted(runtime, { kind: "call", entityId: id, op: CLEAN_OP, maintenance })));
      outcomes.forEach((outcome, i) => {
        if (outcome.kind === "error") throw new EntityError(outcome.code, outcome.message);
        const id = page.entities[i]!.id;
        const { removed, unlocked } = (outcome as { value: CleanOutcome }).value;
        if (removed && report.removedEmpty++ < MAX_REPORTED_IDS) report.removed.push(id);
        if (unlocked && report.locksFreed++ < MAX_REPORTED_IDS) report.unlocked.push(id);
      });
      after = page.next;
      if (after !== undefined) await new Promise((resolve) => setImmediate(resolve));
    } while (after !== undefined);
  }
  return report;
}

/** Submits a request and resolves with its outcome (after its commit). */
function submitted(runtime: EntityRuntime, request: Omit<OperationRequest, "replyTo" | "requestId">): Promise<Outcome> {
  return new Promise((resolve) => runtime.submit({ ...request, requestId: 0, replyTo: { deliver: (_id, outcome) => resolve(outcome) } }));
}
