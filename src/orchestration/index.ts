/**
 * Durable orchestrations: define them (and their activities), and the pure replay step the host
 * runs them with. Everything not exported here is private to this folder.
 */
export {
  defineOrchestration,
  defineActivity,
  isOrchestrationDefinition,
  isActivityDefinition,
  type Orchestrator,
  type OrchestrationDefinition,
  type ActivityDefinition,
  type ActivityFunction,
  type ActivityContext,
  type InputOf,
  type OutputOf,
} from "./definitions.js";
export type { OrchestrationContext, CallOptions, TaskCombinators } from "./orchestration-context.js";
export type { RetryOptions } from "./retry-options.js";
export { Task, type TimerTask, type ResultOf } from "./task.js";
export {
  TaskFailedError,
  isTaskFailedError,
  NonDeterminismError,
  LockingRulesViolationError,
  isLockingRulesViolationError,
  type FailedTaskKind,
  type LockingRule,
} from "./task-errors.js";
export type {
  LockHandle,
  LockState,
  SignalEntityOptions,
  EntityIdOf,
  EntityInputParameters,
  EntityResultOf,
  OrchestrationEntityProxy,
  OrchestrationEntityCalls,
  OrchestrationEntitySignals,
} from "./entity-types.js";
export {
  entityRequestEvent,
  entityResponseEventName,
  lockGrantedEventName,
  isReservedEventName,
  RESERVED_EVENT_PREFIX,
  type EntityAction,
} from "./entity-requests.js";
export { HistoryEventType, type HistoryEvent, type HistoryEventName, type FailureDetails } from "./history-events.js";
export type * from "./history-events.js";
export type { OrchestratorAction, ExecutionEnd } from "./actions.js";
export { ReplayExecutor, replay, type ReplayInput, type ReplayResult } from "./replay-executor.js";
export { OrchestrationHost, type OrchestrationHostOptions, type InstanceChange } from "./orchestration-host.js";
export { statusOf, isActive, type InstanceRecord, type InstanceStatus, type RuntimeStatus } from "./instance-record.js";
export { DEFAULT_ORCHESTRATION_LIMITS, type OrchestrationLimits } from "./orchestration-limits.js";
export type { InstanceRequest } from "./instance-requests.js";
