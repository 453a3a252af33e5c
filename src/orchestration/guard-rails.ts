import { ErrorCode, isInstanceId } from "../../protocol/index.js";
import type { OrchestratorAction } from "./actions.js";
import type { FailureDetails } from "./history-events.js";
import type { InstanceRecord } from "./instance-record.js";
import type { OrchestrationLimits } from "./orchestration-limits.js";
import type { ReplayResult } from "./replay-executor.js";

/**
 * Why the turn's result passes a guard rail, or undefined: too many open tasks, a history past its
 * bound (the end's record included), an id that cannot name an instance, a payload (an input the
 * code hands on, its output, custom status, or next execution's input) larger than the limit.
 */
export function guardRail(record: InstanceRecord, arrived: number, result: ReplayResult, limits: OrchestrationLimits): FailureDetails | undefined {
  const exceeded = (message: string): FailureDetails => ({ errorType: ErrorCode.limit_exceeded, message });
  const oversized = (what: string): FailureDetails => ({ errorType: ErrorCode.payload_too_large, message: `${what} is larger than ${limits.maxPayloadBytes} bytes of JSON` });
  if (result.end === undefined && result.openTasks > limits.maxOpenTasks) return exceeded(`the orchestration has ${result.openTasks} tasks open; the limit is ${limits.maxOpenTasks}`);
  const projected = record.historyLength + arrived + result.actions.length + 3; // each action records at most one event; then the end and OrchestratorCompleted
  if (projected > limits.maxHistoryEvents) return exceeded(`the history would hold ${projected} events; the limit is ${limits.maxHistoryEvents} (an eternal orchestration should call continueAsNew)`);
  for (const action of result.actions) {
    if ((action.type === "CreateSubOrchestration" || action.type === "SendEvent") && !isInstanceId(action.instanceId)) {
      return { errorType: ErrorCode.bad_request, message: `${action.type === "SendEvent" ? "an event's target" : "a sub-orchestration's instance id"} must be 1 to 256 characters of well-formed text` };
    }
    if ("input" in action && tooLarge(action.input, limits.maxPayloadBytes)) return oversized(`the input of ${describeAction(action)}`);
  }
  if (tooLarge(result.customStatus, limits.maxPayloadBytes)) return oversized("the custom status");
  if (result.end?.status === "Completed" && tooLarge(result.end.output, limits.maxPayloadBytes)) return oversized("the output");
  if (result.end?.status === "ContinuedAsNew" && tooLarge(result.end.input, limits.maxPayloadBytes)) return oversized("the input of the next execution (continueAsNew)");
  return undefined;
}

function describeAction(action: OrchestratorAction): string {
  switch (action.type) {
    case "ScheduleTask":
      return `activity "${action.name}"`;
    case "SendEvent":
      return `event "${action.name}"`;
    case "CreateSubOrchestration":
      return `sub-orchestration "${action.name}"`;
    case "CallEntity":
    case "SignalEntity":
      return `operation "${action.operation}" of entity "${action.entityId}"`;
    default:
      return action.type;
  }
}

/** True when a value's JSON is longer than the limit. */
export function tooLarge(value: unknown, maxBytes: number): boolean {
  if (value === undefined) return false;
  return (JSON.stringify(value)?.length ?? 0) > maxBytes;
}
