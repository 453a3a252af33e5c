import type { OrchestratorAction } from "./actions.js";
import { ACTION_OF_REQUEST, lockSetOf } from "./entity-requests.js";
import type { EventSent, SubOrchestrationInstanceCreated, TaskScheduled, TimerCreated } from "./history-events.js";
import { NonDeterminismError } from "./task-errors.js";

/** A history event that records an action the code asked for. */
export type ScheduledEvent = TaskScheduled | TimerCreated | SubOrchestrationInstanceCreated | EventSent;

/** What the ledger keeps of an action to compare it with history (its input is not compared). */
export interface ActionSignature {
  readonly type: Exclude<OrchestratorAction["type"], "CancelTimer">;
  readonly name?: string;
  readonly instanceId?: string;
  /** A lock request's or release's entity set (JSON). */
  readonly entities?: string;
}

const RECORDS = { TaskScheduled: "ScheduleTask", TimerCreated: "CreateTimer", SubOrchestrationInstanceCreated: "CreateSubOrchestration", EventSent: "SendEvent" } as const;

/** The signature of the action a scheduled event records. */
export function signatureOfEvent(event: ScheduledEvent): ActionSignature {
  switch (event.type) {
    case "TimerCreated":
      return { type: RECORDS[event.type] };
    case "EventSent": {
      const request = event.entityRequest;
      if (request === "lock" || request === "release") return { type: ACTION_OF_REQUEST[request], entities: JSON.stringify(lockSetOf(event)) };
      return { type: request === undefined ? RECORDS[event.type] : ACTION_OF_REQUEST[request], name: event.name, instanceId: event.instanceId };
    }
    default:
      return { type: RECORDS[event.type], name: event.name };
  }
}

/** The signature of an action (CancelTimer has none: it is never recorded). */
export function signatureOfAction(action: Exclude<OrchestratorAction, { type: "CancelTimer" }>): ActionSignature {
  switch (action.type) {
    case "CreateTimer":
      return { type: action.type };
    case "SendEvent":
      return { type: action.type, name: action.name, instanceId: action.instanceId };
    case "CallEntity":
    case "SignalEntity":
      return { type: action.type, name: action.operation, instanceId: action.entityId };
    case "LockEntities":
    case "ReleaseLocks":
      return { type: action.type, entities: JSON.stringify(action.entityIds) };
    default:
      return { type: action.type, name: action.name };
  }
}

export function sameSignature(a: ActionSignature, b: ActionSignature): boolean {
  return a.type === b.type && a.name === b.name && a.instanceId === b.instanceId && a.entities === b.entities;
}

/** In words a user knows: `activity "SayHello"`, `a timer`, … */
export function describeSignature(signature: ActionSignature | undefined): string {
  if (signature === undefined) return "nothing";
  switch (signature.type) {
    case "ScheduleTask":
      return `activity "${signature.name}" (callActivity)`;
    case "CreateSubOrchestration":
      return `sub-orchestration "${signature.name}" (callSubOrchestration)`;
    case "CreateTimer":
      return "a timer (createTimer)";
    case "SendEvent":
      return `event "${signature.name}" sent to "${signature.instanceId}"`;
    case "CallEntity":
      return `operation "${signature.name}" of entity "${signature.instanceId}" (callEntity)`;
    case "SignalEntity":
      return `a signal "${signature.name}" to entity "${signature.instanceId}" (signalEntity)`;
    case "LockEntities":
      return `a lock on ${entityList(signature.entities)} (lock)`;
    case "ReleaseLocks":
      return `the release of the lock on ${entityList(signature.entities)} (LockHandle.release)`;
  }
}

function entityList(entities: string | undefined): string {
  const ids = entities === undefined ? [] : (JSON.parse(entities) as string[]);
  return ids.map((id) => `"${id}"`).join(", ");
}

/**
 * The error for history and code that disagree at one action id. `recorded` is what the history
 * holds there, `asked` what the code asks for now (undefined: nothing).
 */
export function historyMismatch(orchestration: string, position: number, id: number, recorded: ActionSignature | undefined, asked: ActionSignature | undefined): NonDeterminismError {
  const what =
    recorded === undefined
      ? `the orchestrator asks for ${describeSignature(asked)} as action ${id}, but the history records nothing for action ${id} (the turn that asked for it ended without it)`
      : `the history records ${describeSignature(recorded)} as action ${id}, but the orchestrator now asks for ${describeSignature(asked)} as action ${id}`;
  return new NonDeterminismError(
    `non-deterministic orchestration "${orchestration}" at history position ${position}: ${what}. ` +
      `Was the orchestrator changed while instances were running? Code that changes the order, kind or names of the tasks it starts needs a new orchestration name (or running instances must finish first); inside an orchestrator, use ctx.currentUtcDateTime, ctx.newGuid() and inputs instead of reading the environment.`,
    position,
  );
}
