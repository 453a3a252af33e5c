import type { FailureDetails } from "./orchestration-types.js";

/**
 * An instance's history, as `client.history(id)` returns it: Durable Task's event vocabulary, times
 * in epoch ms. Scheduling events carry `eventId`; the events that complete them name it
 * (`taskScheduledId`, `timerId`). Written by hand to match the server's history events.
 */
export type HistoryEvent =
  | { readonly type: "ExecutionStarted"; readonly timestamp: number; readonly name: string; readonly input?: unknown; readonly parentInstanceId?: string; readonly parentTaskId?: number; readonly generation?: number }
  | { readonly type: "OrchestratorStarted" | "OrchestratorCompleted"; readonly timestamp: number }
  | { readonly type: "TaskScheduled"; readonly timestamp: number; readonly eventId: number; readonly name: string; readonly input?: unknown }
  | { readonly type: "TaskCompleted" | "SubOrchestrationInstanceCompleted"; readonly timestamp: number; readonly taskScheduledId: number; readonly result?: unknown }
  | { readonly type: "TaskFailed" | "SubOrchestrationInstanceFailed"; readonly timestamp: number; readonly taskScheduledId: number; readonly failure: FailureDetails }
  | { readonly type: "TimerCreated"; readonly timestamp: number; readonly eventId: number; readonly fireAt: number }
  | { readonly type: "TimerFired"; readonly timestamp: number; readonly timerId: number; readonly fireAt: number }
  | { readonly type: "SubOrchestrationInstanceCreated"; readonly timestamp: number; readonly eventId: number; readonly name: string; readonly instanceId: string; readonly input?: unknown }
  | { readonly type: "EventRaised"; readonly timestamp: number; readonly name: string; readonly input?: unknown }
  | { readonly type: "EventSent"; readonly timestamp: number; readonly eventId: number; readonly instanceId: string; readonly name: string; readonly input?: unknown }
  | { readonly type: "ExecutionCompleted"; readonly timestamp: number; readonly status: "Completed" | "Failed"; readonly result?: unknown; readonly failure?: FailureDetails }
  | { readonly type: "ExecutionTerminated" | "ExecutionSuspended" | "ExecutionResumed"; readonly timestamp: number; readonly reason?: unknown }
  /** A rewind of the failed execution: replay skips the failures at these history positions, so their tasks run again. */
  | { readonly type: "ExecutionRewound"; readonly timestamp: number; readonly reason?: unknown; readonly rewoundEvents: readonly number[] }
  | { readonly type: "ContinueAsNew"; readonly timestamp: number; readonly input?: unknown };

/** The name of a history event type. */
export type HistoryEventName = HistoryEvent["type"];
