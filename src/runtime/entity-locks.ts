import type { EntityMessage, InstanceMessage, LockHolder, MailboxMessage } from "../storage/index.js";
import type { OperationRequest } from "./operation-request.js";

/** Ops of the lock protocol (reserved: an entity type cannot define them). */
export const LOCK_OP = "@lock";
export const RELEASE_OP = "@release";

/** Whether an orchestration execution is still running (a lock it holds is then kept). */
export type LockHolderCheck = (holder: LockHolder) => boolean;

export function sameHolder(a: LockHolder | undefined, b: LockHolder | undefined): boolean {
  return a !== undefined && b !== undefined && a.instanceId === b.instanceId && a.generation === b.generation;
}

/**
 * Must the request wait for the entity's lock? Reads never wait (they change nothing); the
 * holder's own requests, and releases, go through; everything else waits while the entity is held.
 */
export function waitsForLock(lock: LockHolder | undefined, request: OperationRequest): boolean {
  if (lock === undefined || request.kind === "read" || (isLockStep(request) && request.op === RELEASE_OP)) return false;
  return !sameHolder(lock, request.holder);
}

/** A message of the lock protocol: a reserved op, sent by an orchestration with its lock set. Anything else naming one is refused. */
export function isLockStep(request: OperationRequest): boolean {
  return (request.op === LOCK_OP || request.op === RELEASE_OP) && request.lock !== undefined && request.holder !== undefined;
}

/**
 * A raised event for an orchestration execution (the answer to its call, the grant of its lock),
 * as a durable message to the instance. The body is the one orchestration instances take.
 */
export function eventForInstance(to: LockHolder, name: string, input: unknown, source: string): InstanceMessage {
  return { kind: "instance", target: to.instanceId, event: { type: "event", event: { type: "EventRaised", timestamp: 0, name, input }, generation: to.generation }, source };
}

/**
 * The next step of acquiring a lock set once this entity (the `index`-th of the set) is held: ask
 * the next entity, or, when this was the last, tell the holder it has them all. The set is acquired
 * one entity at a time in one global order (sorted ids), so two holders of overlapping sets never
 * wait for each other in a circle.
 */
export function nextLockStep(request: OperationRequest, entityId: string): MailboxMessage {
  const { entities, grant } = request.lock!;
  const next = entities[entities.indexOf(entityId) + 1];
  if (next !== undefined) return { target: next, op: LOCK_OP, holder: request.holder!, lock: request.lock!, source: entityId };
  return eventForInstance(request.holder!, grant, { entities }, entityId);
}

/**
 * A lock request that cannot go on at its target (an entity type this app lacks): the holder is told
 * its lock failed, so the entities before the target in the set, already held for it, are let go.
 */
export function releasesBefore(request: EntityMessage): MailboxMessage[] {
  if (request.op !== LOCK_OP || request.lock === undefined || request.holder === undefined) return [];
  const { entities } = request.lock;
  const taken = entities.slice(0, Math.max(0, entities.indexOf(request.target)));
  return taken.map((target) => ({ target, op: RELEASE_OP, holder: request.holder!, lock: { entities: [target], grant: "" }, source: request.target }));
}
