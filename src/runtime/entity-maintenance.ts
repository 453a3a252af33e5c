import type { LockHolderCheck } from "./entity-locks.js";
import type { LoadedEntity } from "./loaded-entity.js";
import type { OperationRequest, Outcome } from "./operation-request.js";

/**
 * Work the server itself does on an entity (not an operation of its type): it goes through the
 * entity's mailbox and runs in its turn like an operation, so it never writes behind the back of
 * the entity's one writer (nor of the entities the runtime holds in memory).
 *
 * - `delete` removes the state, as an operation calling `ctx.deleteState()` would: a new version
 *   (live subscribers see null), the record kept without state until `clean` removes it. Like any
 *   operation it waits while an orchestration holds the entity in a critical section (a lock whose
 *   holder has ended is freed first).
 * - `clean` does not wait for a lock: it frees one whose holder no longer runs, then, once the
 *   turn's operations have run, removes the record of an entity left with no state, no lock and
 *   nothing waiting, unless live state watches it (its version would start again from 0 under a
 *   subscriber that holds a later one).
 */
export type Maintenance =
  | { readonly kind: "delete" }
  | {
      readonly kind: "clean";
      readonly removeEmpty: boolean;
      readonly releaseOrphanedLocks: boolean;
      /** True while live state knows a version of the entity (a subscriber, or a feed kept for one). */
      readonly isWatched: (entityId: string) => boolean;
    };

/** What a `delete` answers: whether the entity had state. */
export interface DeleteOutcome {
  readonly deleted: boolean;
}

/** What one entity's `clean` answers. */
export interface CleanOutcome {
  readonly removed: boolean;
  readonly unlocked: boolean;
}

/** The op name maintenance requests carry (for logs; the `maintenance` field is what marks them). */
export const DELETE_OP = "@delete";
export const CLEAN_OP = "@clean";

/** The request that deletes an entity's state in its turn. */
export function deleteRequest(entityId: string): Omit<OperationRequest, "replyTo" | "requestId"> {
  return { kind: "call", entityId, op: DELETE_OP, maintenance: { kind: "delete" } };
}

/** `delete` at its place in the turn: the state goes; the turn makes the version. */
export function deleteStep(entity: LoadedEntity): Outcome {
  const value: DeleteOutcome = { deleted: entity.state !== undefined };
  entity.state = undefined;
  return { kind: "result", value };
}

/** A `clean` of the turn, answered once the turn's operations have run. */
export interface PendingClean {
  readonly request: OperationRequest;
  readonly unlocked: boolean;
}

const isClean = (request: OperationRequest) => request.maintenance?.kind === "clean";

/**
 * The start of a turn: takes its `clean`s out of the operations and, for them, frees the entity's
 * lock when its holder no longer runs (before anything else, so that what waited for the lock runs in
 * this turn). A clean never waits for a lock. Returns the other operations, and the cleans to finish.
 */
export function startCleans(entity: LoadedEntity, operations: OperationRequest[], isHolderActive: LockHolderCheck): { rest: OperationRequest[]; cleans: PendingClean[]; unlocked: boolean } {
  if (!operations.some(isClean)) return { rest: operations, cleans: [], unlocked: false };
  let unlocked = false;
  const cleans = operations.filter(isClean).map((request): PendingClean => {
    const maintenance = request.maintenance as Extract<Maintenance, { kind: "clean" }>;
    const frees = maintenance.releaseOrphanedLocks && entity.lock !== undefined && !isHolderActive(entity.lock);
    if (frees) {
      entity.lock = undefined;
      unlocked = true;
    }
    return { request, unlocked: frees };
  });
  return { rest: operations.filter((request) => !isClean(request)), cleans, unlocked };
}

/**
 * The end of a turn with `clean`s in it: the first that can removes an empty record (the entity's
 * version starts again from 0, its record is deleted with the turn's commit). Nothing is removed
 * when the turn changed the state, or the entity has state, a lock, work waiting, no record, or
 * watchers. Returns the answers and whether the record goes.
 */
export function finishCleans(entity: LoadedEntity, cleans: readonly PendingClean[], changedThisTurn: boolean): { outcomes: Array<[OperationRequest, Outcome]>; removed: boolean } {
  let removed = false;
  const outcomes = cleans.map(({ request, unlocked }): [OperationRequest, Outcome] => {
    const maintenance = request.maintenance;
    const remove =
      !removed &&
      maintenance?.kind === "clean" &&
      maintenance.removeEmpty &&
      !changedThisTurn &&
      entity.state === undefined &&
      entity.lock === undefined &&
      entity.version > 0 &&
      entity.waiting.length === 0 &&
      entity.mailbox.length === 0 &&
      !maintenance.isWatched(entity.id);
    if (remove) {
      entity.version = 0;
      entity.modifiedAt = undefined;
      removed = true;
    }
    const value: CleanOutcome = { removed: remove, unlocked };
    return [request, { kind: "result", value }];
  });
  return { outcomes, removed };
}
