/** durable-entities: define entities and orchestrations, and host them. The client is `durable-entities/client`. */
export {
  defineEntity,
  isEntityDefinition,
  type EntityContext,
  type EntityDefinition,
  type EntityOperation,
  type OperationsEntityDefinition,
  type DispatchEntityDefinition,
  type ValidatedOperation,
  type OperationSpec,
  type InputSchema,
} from "./runtime/index.js";
export {
  defineOrchestration,
  defineActivity,
  Task,
  TaskFailedError,
  isTaskFailedError,
  type OrchestrationContext,
  type OrchestrationDefinition,
  type ActivityDefinition,
  type ActivityContext,
  type RetryOptions,
  type TimerTask,
  type CallOptions,
  type HistoryEvent,
  type FailureDetails,
  type InputOf,
  type OutputOf,
} from "./orchestration/index.js";
export { startServer, type RunningServer, type ServerOptions } from "./server/index.js";
export { createMetrics, type RuntimeMetrics } from "./observability/metrics.js";
export { createCheckStatusResponse, checkStatusPayload, type CheckStatusOptions } from "./server/index.js";
export { EntityError, isEntityError, ErrorCode } from "../protocol/index.js";
