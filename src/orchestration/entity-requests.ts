import type { OrchestratorAction } from "./actions.js";
import type { EntityRequestKind, EventSent, FailureDetails } from "./history-events.js";

/*
 * The orchestration side of the entity messages: the history event each entity action records, and
 * the reserved event names the entities answer with. The host records an entity action as
 * `entityRequestEvent(action, now)` and delivers answers as EventRaised events:
 *
 * - a call's answer: name `@entity:<action id>`, input `{ result?: unknown }` or `{ failure: FailureDetails }`;
 * - a granted lock: name `@lock:<action id>`, input `{ entities }`.
 *
 * Event names that start with "@" are reserved: they never reach `waitForExternalEvent`, and the
 * server must refuse them from clients.
 */

/** The entity actions: each records one EventSent with `entityRequest` set. */
export type EntityAction = Extract<OrchestratorAction, { type: "CallEntity" | "SignalEntity" | "LockEntities" | "ReleaseLocks" }>;

/** Event names starting with this are the host's: entity answers and lock grants. */
export const RESERVED_EVENT_PREFIX = "@";

/** True for a reserved event name (an entity's answer or a lock grant, never a user event). */
export function isReservedEventName(name: string): boolean {
  return name.startsWith(RESERVED_EVENT_PREFIX);
}

/** The name of the EventRaised that answers the entity call with action id `id`. */
export function entityResponseEventName(id: number): string {
  return `@entity:${id}`;
}

/** The name of the EventRaised that grants the lock request with action id `id`. */
export function lockGrantedEventName(id: number): string {
  return `@lock:${id}`;
}

/** What a reserved event name answers, or undefined for one that answers nothing. */
export function parseReservedEventName(name: string): { readonly kind: "entity" | "lock"; readonly id: number } | undefined {
  const match = /^@(entity|lock):(0|[1-9][0-9]{0,14})$/.exec(name);
  return match === null ? undefined : { kind: match[1] as "entity" | "lock", id: Number(match[2]) };
}

/** How an entity call ended, read from its answer's input (a malformed answer is a failure that says so). */
export function entityCallOutcome(input: unknown): { readonly ok: true; readonly result: unknown } | { readonly ok: false; readonly failure: FailureDetails } {
  if (typeof input !== "object" || input === null) return { ok: false, failure: { errorType: "internal", message: `the entity's answer is not { result } or { failure }: got ${input === null ? "null" : typeof input}` } };
  const { result, failure } = input as { result?: unknown; failure?: unknown };
  if (failure === undefined) return { ok: true, result };
  const f = failure as Partial<FailureDetails> | null;
  if (typeof f === "object" && f !== null && typeof f.errorType === "string" && typeof f.message === "string") return { ok: false, failure: f as FailureDetails };
  return { ok: false, failure: { errorType: "internal", message: "the entity's answer holds a failure without errorType and message" } };
}

/** The history event the host records for an entity action. */
export function entityRequestEvent(action: EntityAction, timestamp: number): EventSent {
  const base = { type: "EventSent", timestamp, eventId: action.id } as const;
  switch (action.type) {
    case "CallEntity":
      return { ...base, instanceId: action.entityId, name: action.operation, ...withInput(action.input), entityRequest: "call" };
    case "SignalEntity":
      return { ...base, instanceId: action.entityId, name: action.operation, ...withInput(action.input), entityRequest: "signal", ...(action.at === undefined ? {} : { scheduledTime: action.at }) };
    case "LockEntities":
      return { ...base, instanceId: action.entityIds[0]!, name: "lock", input: [...action.entityIds], entityRequest: "lock" };
    case "ReleaseLocks":
      return { ...base, instanceId: action.entityIds[0]!, name: "release", input: [...action.entityIds], entityRequest: "release" };
  }
}

/** The entity set a recorded lock request or release names (its `input`), or undefined. */
export function lockSetOf(event: EventSent): readonly string[] | undefined {
  if (event.entityRequest !== "lock" && event.entityRequest !== "release") return undefined;
  return Array.isArray(event.input) && event.input.every((id) => typeof id === "string") ? (event.input as string[]) : [event.instanceId];
}

/** The action type an entity request records. */
export const ACTION_OF_REQUEST: { readonly [K in EntityRequestKind]: EntityAction["type"] } = {
  call: "CallEntity",
  signal: "SignalEntity",
  lock: "LockEntities",
  release: "ReleaseLocks",
};

/** The global lock order: ids sorted (UTF-16 code units, as Array.prototype.sort) without duplicates. */
export function lockOrder(entityIds: readonly string[]): string[] {
  return [...new Set(entityIds)].sort();
}

function withInput(input: unknown): { input?: unknown } {
  return input === undefined ? {} : { input };
}
