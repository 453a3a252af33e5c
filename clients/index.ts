export { connect } from "./connect.js";
export type { ClientOptions } from "./client-options.js";
export type { DurableClient, EntitySnapshot, SignalOptions } from "./client-api.js";
export type { FailedSignal, FailurePage, FailureQuery } from "./failure-types.js";
export type { EntityQueryClient, EntityQuery, EntityPage, ListedEntity, EntityTypeOf, DeleteEntityResult, CleanEntitiesOptions, CleanEntitiesResult } from "./entity-queries.js";
export type { EntityProxy, EntityCalls, EntitySignals, EntityStateOf, CallOf, SignalOf, UntypedOperations } from "./entity-proxy.js";
export type { Subscription, LiveStateListener, LiveStateInfo } from "./subscription.js";
export type { OrchestrationClient } from "./orchestration-calls.js";
export type {
  OrchestrationDefinitionShape,
  OrchestrationInput,
  OrchestrationOutput,
  OrchestrationNameOf,
  StartOptions,
  StartArgs,
  RuntimeStatus,
  FinishedRuntimeStatus,
  FailureDetails,
  InstanceStatus,
  FinishedInstanceStatus,
  CompletedInstanceStatus,
  FailedInstanceStatus,
  TerminatedInstanceStatus,
  ActiveInstanceStatus,
  InstanceQuery,
  InstancePage,
  PurgeResult,
  WaitOptions,
  InstanceStatusListener,
  InstanceWatch,
} from "./orchestration-types.js";
export type { HistoryEvent, HistoryEventName } from "./history-event.js";
export type { BackoffOptions } from "./backoff.js";
export type { WebSocketLike, WebSocketFactory } from "./web-socket.js";
export { EntityError, isEntityError, ErrorCode } from "../protocol/entity-error.js";
